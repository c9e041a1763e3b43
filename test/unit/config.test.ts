import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, memoryFlags } from "../../src/config.js";

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({ DISCORD_TOKEN: "t", KLING_API_KEY: "k" }, ["bot", "kling"]);
    expect(c.klingApiUrl).toBe("https://kling3api.com");
    expect(c.dataDir).toBe("./data");
    expect(c.databaseUrl).toBeUndefined();
    expect(c.defaultGuildCredits).toBe(0);
    expect(c.botOwnerIds).toEqual([]);
    expect(c.discordApiUrl).toBeUndefined();
    expect(c.poll.intervalMs).toBe(5000);
    expect(c.role).toBe("all");
    expect(c.allowedGuildIds).toBeUndefined();
    expect(c.allowanceCheckIntervalMs).toBe(60_000);
  });

  it("parses every variable of the interface", () => {
    const c = loadConfig({
      DISCORD_TOKEN: "t",
      DISCORD_API_URL: "http://127.0.0.1:9999/api/",
      KLING_API_KEY: "k",
      KLING_API_URL: "http://127.0.0.1:8787",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/x",
      DATA_DIR: "/tmp/d",
      DEFAULT_GUILD_CREDITS: "500",
      BOT_OWNER_IDS: "123456789012345678, 223456789012345678",
      DEV_GUILD_ID: "323456789012345678",
      POLL_INTERVAL_MS: "250",
      REGISTER_COMMANDS: "false",
      ALLOWED_GUILD_IDS: "423456789012345678,523456789012345678",
      ALLOWANCE_CHECK_INTERVAL_MS: "500",
    });
    expect(c.allowedGuildIds).toEqual(["423456789012345678", "523456789012345678"]);
    expect(c.allowanceCheckIntervalMs).toBe(500);
    expect(c.discordApiUrl).toBe("http://127.0.0.1:9999/api");
    expect(c.klingApiUrl).toBe("http://127.0.0.1:8787");
    expect(c.databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/x");
    expect(c.defaultGuildCredits).toBe(500);
    expect(c.botOwnerIds).toEqual(["123456789012345678", "223456789012345678"]);
    expect(c.devGuildId).toBe("323456789012345678");
    expect(c.poll.intervalMs).toBe(250);
    expect(c.registerCommands).toBe(false);
  });

  it("lists every problem at once and never echoes a secret value", () => {
    let error: unknown;
    try {
      loadConfig(
        {
          KLING_API_KEY: "sk-very-secret-value",
          KLING_API_URL: "not a url sk-very-secret-value",
          DEFAULT_GUILD_CREDITS: "-3",
          BOT_OWNER_IDS: "abc",
          DATABASE_URL: "mysql://x",
          POLL_INTERVAL_MS: "soon",
          ALLOWED_GUILD_IDS: "my-server",
        },
        ["bot", "kling"],
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of [
      "DISCORD_TOKEN",
      "KLING_API_URL",
      "DEFAULT_GUILD_CREDITS",
      "BOT_OWNER_IDS",
      "DATABASE_URL",
      "POLL_INTERVAL_MS",
      "ALLOWED_GUILD_IDS",
    ]) {
      expect(problems).toContain(name);
    }
    expect((error as Error).message).not.toContain("sk-very-secret-value");
  });

  it("treats 'false' as false for flags", () => {
    expect(loadConfig({ LOG_PRETTY: "false" }).logPretty).toBe(false);
    expect(loadConfig({ LOG_PRETTY: "true" }).logPretty).toBe(true);
  });

  it("requires SHARD_ID and SHARD_COUNT together", () => {
    expect(() => loadConfig({ SHARD_ID: "0" })).toThrow(/SHARD_ID and SHARD_COUNT/);
    expect(loadConfig({ SHARD_ID: "1", SHARD_COUNT: "2" }).shard).toEqual({ id: 1, count: 2 });
  });
});

describe("memoryFlags", () => {
  it("keeps memory small by default, and PGlite's WebAssembly on the baseline compiler", () => {
    expect(memoryFlags({})).toEqual([
      "--optimize-for-size",
      "--no-wasm-tier-up",
      "--no-wasm-dynamic-tiering",
    ]);
    expect(memoryFlags({ DATABASE_URL: "postgres://h/db" })).toEqual(["--optimize-for-size"]);
    expect(memoryFlags({ MEMORY_MODE: "fast" })).toEqual([]);
  });

  it("refuses a mode it does not know, naming the variable", () => {
    expect(() => loadConfig({ MEMORY_MODE: "tiny" })).toThrow(/MEMORY_MODE/);
  });
});
