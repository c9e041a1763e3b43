import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { envSchema, loadConfig } from "../../src/config.js";

/**
 * `.env.example` as an operator uses it: every setting line uncommented, read by the same parser as the bot's
 * `process.loadEnvFile` (`util.parseEnv` is Node's dotenv parser without the write into `process.env`).
 */

const text = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");
const SETTING = /^#\s?([A-Z][A-Z0-9_]*=.*)$/;
const uncommented = text
  .split("\n")
  .map((line) => SETTING.exec(line)?.[1] ?? line)
  .join("\n");
const env = parseEnv(uncommented) as Record<string, string>;

describe(".env.example", () => {
  it("has every setting on its own line, with no comment after a value", () => {
    for (const line of uncommented.split("\n")) {
      if (line.startsWith("#") || line.trim() === "") continue;
      expect(line, "one KEY=value per line").toMatch(/^[A-Z][A-Z0-9_]*=[^#\s]*$/);
    }
  });

  it("names every variable the bot reads", () => {
    expect(Object.keys(env).sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it("loads without a configuration error, every line uncommented", () => {
    expect(() => loadConfig(env)).not.toThrow();
  });

  it("shows the defaults: uncommented, it configures the bot as an empty file does", () => {
    const secrets = { DISCORD_TOKEN: "token", KLING_API_KEY: "key" };
    expect(loadConfig({ ...env, ...secrets }, ["bot", "kling"])).toEqual(
      loadConfig(secrets, ["bot", "kling"]),
    );
  });
});
