import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The entry point checks the Node version before it loads anything that could fail on an older Node. It is
 * compiled here with the build's own compiler options (it imports nothing, so compiling it alone gives the
 * file `npm run build` writes) next to stand-ins for `main.js` and `config.js`, and run on an older Node found on the machine.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The first `node` on the machine older than 24 (the system's, not the pinned one npm scripts put first). */
function olderNode(): { path: string; version: string } | undefined {
  const candidates = [
    "/usr/bin/node",
    "/usr/local/bin/node",
    "/bin/node",
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node")),
  ];
  for (const path of new Set(candidates)) {
    if (!existsSync(path)) continue;
    const out = spawnSync(path, ["--version"], { encoding: "utf8" });
    const version = out.stdout?.trim().replace(/^v/, "");
    if (out.status === 0 && version && Number(version.split(".")[0]) < 24) return { path, version };
  }
  return undefined;
}

describe("the entry point's Node version check", () => {
  let dir: string;

  beforeAll(async () => {
    const configPath = join(ROOT, "tsconfig.build.json");
    const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configPath);
    dir = await mkdtemp(join(tmpdir(), "kdb-start-"));
    // A program, not transpileModule: like tsc, it reads package.json to emit an ES module. Only this file:
    // neither its dynamic import nor a library is loaded (emitting needs no types).
    const program = ts.createProgram([join(ROOT, "src/start.ts")], {
      ...options,
      outDir: dir,
      rootDir: join(ROOT, "src"),
      sourceMap: false,
      noLib: true,
      noResolve: true,
      types: [],
    });
    const emitted = program.emit();
    expect(emitted.emitSkipped).toBe(false);
    expect(await readdir(dir)).toEqual(["start.js"]);
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module" }));
    // Stands for the bot: a module an old Node could not load would fail here, after the check.
    await writeFile(join(dir, "main.js"), 'console.log("main loaded");\n');
    // Stands for the configuration module, which the entry point asks for its V8 flags after the check.
    await writeFile(
      join(dir, "config.js"),
      "export const readProcessEnv = () => ({});\nexport const memoryFlags = () => [];\n",
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const old = olderNode();

  it.runIf(old)(`refuses to start on an older Node (${old?.path} ${old?.version})`, () => {
    const run = spawnSync(old!.path, [join(dir, "start.js")], {
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`kling-discord-bot needs Node 24 or later (found ${old!.version})`);
    expect(run.stdout).not.toContain("main loaded");
  });

  it("loads the bot on this Node", () => {
    const run = spawnSync(process.execPath, [join(dir, "start.js")], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe("main loaded");
    expect(run.status).toBe(0);
  });
});
