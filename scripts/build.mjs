// Compile the TypeScript into dist/ (`npm run build`), or with --if-changed only when a source changed since the
// last build (`npm start`): a start with nothing changed then costs a hash of the sources, tens of milliseconds,
// instead of a full compile. Plain JavaScript with no dependencies, so it runs wherever `node` does.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const INPUT_DIRS = ["src", "commands"];
const INPUT_FILES = ["tsconfig.json", "tsconfig.build.json"];
const STAMP = join(ROOT, "dist", ".build-hash");
const ENTRY = join(ROOT, "dist", "src", "start.js");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** Hash of every input's path and content: a checkout that only touches files does not count as a change. */
function sourceHash() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && /\.(ts|mts|json)$/.test(entry.name)) files.push(path);
    }
  };
  for (const dir of INPUT_DIRS) walk(join(ROOT, dir));
  for (const file of INPUT_FILES) files.push(join(ROOT, file));
  const hash = createHash("sha256");
  for (const file of files.map((f) => relative(ROOT, f)).sort()) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(ROOT, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

const ifChanged = process.argv.includes("--if-changed");
// A shipped build (dist/ without the sources beside it): there is nothing to compile from.
if (ifChanged && existsSync(ENTRY) && !INPUT_DIRS.every((dir) => existsSync(join(ROOT, dir))))
  process.exit(0);
const hash = sourceHash();
if (ifChanged && existsSync(ENTRY) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === hash) {
  process.exit(0);
}
if (!existsSync(TSC)) {
  console.error(
    existsSync(ENTRY)
      ? "The sources changed since dist/ was built (or it was not built by npm run build), and TypeScript is not " +
          "installed (an install without dev dependencies). Build where they are installed (npm ci && npm run " +
          "build) and ship dist/, or run npm ci."
      : "There is no build in dist/, and TypeScript is not installed (an install without dev dependencies). " +
          "Build where they are installed (npm ci && npm run build) and ship dist/, or run npm ci.",
  );
  process.exit(1);
}
if (ifChanged) console.error("Compiling: the sources changed since the last build (or there is none).");
const result = spawnSync(process.execPath, [TSC, "-p", join(ROOT, "tsconfig.build.json")], {
  cwd: ROOT,
  stdio: "inherit",
});
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(join(ROOT, "dist"), { recursive: true });
writeFileSync(STAMP, `${hash}\n`);
