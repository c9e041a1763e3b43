import { runSimulatorCli, SimArgsError, USAGE } from "./cli.js";

// `npm run kling:sim -- --port 8787 --api-key sim-key --task-ms 20000 --balance 100000`
try {
  const sim = await runSimulatorCli(process.argv.slice(2));
  if (sim) {
    const stop = () => {
      void sim.close().then(() => process.exit(0));
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
} catch (err) {
  if (err instanceof SimArgsError) {
    process.stderr.write(`${err.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  throw err;
}
