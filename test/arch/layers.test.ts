import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The job domain does not know Discord: nothing under src/jobs or src/ledger imports src/discord or
 * discord.js, directly or through another module of those folders. Read from the sources, as text.
 */

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Module specifiers a file loads at run time (`import type` and `export type` load nothing). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const found = text.matchAll(
    /(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g,
  );
  return [...found].map((m) => (m[1] ?? m[2])!);
}

function resolved(file: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return relative(ROOT, resolve(ROOT, file, "..", specifier)).replace(/\.js$/, ".ts");
}

const isDiscord = (target: string) =>
  target === "discord.js" || target.startsWith("@discordjs/") || target.startsWith("src/discord/");

/** Every module a file loads, directly or through the project's own modules, with the path that led there. */
function reach(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const spec of importsOf(file)) {
      const target = resolved(file, spec);
      if (seen.has(target)) continue;
      seen.set(target, [...seen.get(file)!, target]);
      if (target.endsWith(".ts")) queue.push(target);
    }
  }
  return seen;
}

describe("layers", () => {
  for (const dir of ["src/jobs", "src/ledger"]) {
    it(`${dir} loads nothing of Discord, directly or through other modules`, () => {
      const offending: string[] = [];
      for (const file of sources(dir)) {
        for (const [target, path] of reach(file)) {
          if (isDiscord(target)) offending.push(path.join(" → "));
        }
      }
      expect(offending).toEqual([]);
    });
  }

  it("the check sees imports (it would catch one)", () => {
    expect(importsOf("src/bot.ts")).toContain("discord.js");
    expect(resolved("src/bot.ts", "./discord/router.js")).toBe("src/discord/router.ts");
    expect([...reach("src/bot.ts").keys()].some(isDiscord)).toBe(true);
    expect(importsOf("src/jobs/accept.ts")).not.toContain("../video/validate.js");
  });
});
