import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("METRICS_* configuration", () => {
  it("is off without a port", () => {
    expect(loadConfig({}).metrics).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "", METRICS_HOST: "0.0.0.0" }).metrics).toBeUndefined();
  });

  it("listens on loopback unless told otherwise", () => {
    expect(loadConfig({ METRICS_PORT: "9464" }).metrics).toEqual({
      host: "127.0.0.1",
      port: 9464,
      topGuilds: 20,
    });
    expect(
      loadConfig({ METRICS_PORT: "0", METRICS_HOST: "0.0.0.0", METRICS_TOP_GUILDS: "5" }).metrics,
    ).toEqual({
      host: "0.0.0.0",
      port: 0,
      topGuilds: 5,
    });
  });

  it("refuses a port or a label count out of range", () => {
    let error: unknown;
    try {
      loadConfig({ METRICS_PORT: "70000", METRICS_TOP_GUILDS: "0" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join("\n")).toMatch(/METRICS_PORT: .*\n.*METRICS_TOP_GUILDS: /s);
  });
});
