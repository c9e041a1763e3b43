import { describe, expect, it } from "vitest";
import {
  type CatalogueKey,
  en,
  formatCredits,
  formatDuration,
  formatList,
  formatNumber,
  hasKey,
  ja,
  localeOf,
  type Message,
  message,
  orList,
  renderMessage,
  t,
} from "../../src/i18n/index.js";
import { JOB_STATES } from "../../src/jobs/states.js";
import { KLING_ERROR_CODES } from "../../src/kling/errors.js";
import { MODEL_LABELS, MODELS } from "../../src/video/limits.js";
import { say } from "../../src/video/messages.js";

const KEYS = Object.keys(en) as CatalogueKey[];

const placeholders = (text: string) => [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]).sort();

/** What is left of a text without its placeholders, model names, links, numbers, punctuation and symbols. */
const words = (text: string) =>
  text
    .replace(/\{\w+\}/g, "")
    .replace(/Kling (3\.0|O3)( Pro| Standard)?/g, "")
    .replace(/https?:\/\/\S+/g, "")
    .replace(/[\d\s\p{P}\p{S}]/gu, "");

describe("the catalogues", () => {
  it("have the same keys", () => {
    expect(Object.keys(ja).sort()).toEqual([...KEYS].sort());
  });

  it.each(KEYS)("%s has the same placeholders in both languages, each a plain name", (key) => {
    expect(placeholders(ja[key])).toEqual(placeholders(en[key]));
    for (const name of placeholders(en[key])) expect(name).toMatch(/^\w+$/);
  });

  it.each(KEYS)("%s is translated", (key) => {
    expect(ja[key].trim()).not.toBe("");
    expect(en[key].trim()).not.toBe("");
    if (words(en[key]) === "") return; // only a number, a model name or a link: the same in both
    expect(ja[key]).not.toBe(en[key]);
    expect(ja[key]).toMatch(/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u);
  });

  it("pairs every plural form, and a plural's name is no key of its own", () => {
    for (const key of KEYS) {
      const plural = /^(.*)\.(one|other)$/.exec(key);
      if (!plural) continue;
      expect(hasKey(`${plural[1]}.one`) && hasKey(`${plural[1]}.other`)).toBe(true);
      expect(hasKey(plural[1]!)).toBe(false);
    }
  });

  it("has a text for every job state, Kling error code and model, and the models' English names", () => {
    for (const state of JOB_STATES) expect(hasKey(`state.${state}`)).toBe(true);
    for (const code of KLING_ERROR_CODES) expect(hasKey(`kling.${code}`)).toBe(true);
    for (const model of MODELS) expect(t("en", `model.${model}`)).toBe(MODEL_LABELS[model]);
  });
});

describe("t", () => {
  it("fills parameters and formats numbers for the locale", () => {
    expect(t("en", "reply.queued.held", { held: "400 credits", left: "9,600 credits" })).toBe(
      "Queued — **400 credits** held; the server has 9,600 credits left.",
    );
    expect(t("en", "delivered.why.tooLarge", { mib: 10 })).toBe(
      "it is larger than the 10 MiB upload limit here",
    );
    expect(t("en", "budget.inFlight", { count: 12_345 })).toBe("Jobs in flight (12,345)");
    expect(t("ja", "budget.inFlight", { count: 12_345 })).toBe("進行中のジョブ（12,345）");
    expect(t("en", "mediaSizeIsNotAKey" as never)).toBe("mediaSizeIsNotAKey");
  });

  it("takes no parameters for a text without placeholders", () => {
    expect(t("en", "reply.guildOnly")).toBe("I work in servers: use this command in a server channel.");
    expect(t("ja", "state.running", {})).toBe("生成中");
  });

  it("picks the plural form by count in English, the one form in Japanese", () => {
    expect(t("en", "failed.refund", { count: 1 })).toBe("Your 1 credit was returned to the server's budget.");
    expect(t("en", "failed.refund", { count: 0 })).toBe(
      "Your 0 credits were returned to the server's budget.",
    );
    expect(t("en", "budget.spentAllValue", { count: 2, credits: "80 credits" })).toBe(
      "80 credits (2 videos)",
    );
    expect(t("ja", "budget.spentAllValue", { count: 1, credits: "80 クレジット" })).toBe(
      "80 クレジット（動画 1 本）",
    );
  });

  it("checks parameter names and types at compile time", () => {
    // @ts-expect-error a job number is an id: a number would be grouped (#1,234)
    t("en", "status.title", { job: 1234 });
    // @ts-expect-error the placeholder is `ref`
    t("en", "error.reference", { reference: "abc" });
    // @ts-expect-error a plural needs its count
    t("en", "unit.credits");
    expect(t("en", "status.title", { job: "1234" })).toBe("Video #1234");
  });
});

describe("formatting helpers", () => {
  it("formats credits", () => {
    expect(formatCredits("en", 1)).toBe("1 credit");
    expect(formatCredits("en", 400)).toBe("400 credits");
    expect(formatCredits("en", 1234)).toBe("1,234 credits");
    expect(formatCredits("ja", 400)).toBe("400 クレジット");
    expect(formatCredits("ja", 1)).toBe("1 クレジット");
  });

  it("formats durations", () => {
    expect(formatDuration("en", 3_900_000)).toBe("1h 5m");
    expect(formatDuration("en", 125_000)).toBe("2m 05s");
    expect(formatDuration("en", 7_000)).toBe("7s");
    expect(formatDuration("en", -5)).toBe("0s");
    expect(formatDuration("ja", 3_900_000)).toBe("1時間5分");
    expect(formatDuration("ja", 125_000)).toBe("2分5秒");
    expect(formatDuration("ja", 7_000)).toBe("7秒");
  });

  it("formats numbers and lists", () => {
    expect(formatNumber("en", 1234.5)).toBe("1,234.5");
    expect(formatNumber("ja", 1234.5)).toBe("1,234.5");
    expect(formatList("en", ["A", "B", "C"])).toBe("A, B, and C");
    expect(formatList("en", ["A", "B"], "or")).toBe("A or B");
    expect(formatList("ja", ["A", "B", "C"])).toBe("A、B、C");
  });
});

describe("messages", () => {
  it("render nested messages and lists in the locale", () => {
    const m = say.notChoice("aspect_ratio", ["16:9", "9:16"]);
    expect(renderMessage("en", m)).toBe(
      "`aspect_ratio` must be one of `16:9` or `9:16`: pick one from the list.",
    );
    expect(renderMessage("ja", m)).toBe("`aspect_ratio` は一覧から選んでください（`16:9`または`9:16`）。");
    expect(renderMessage("en", say.empty("prompt"))).toBe(
      "`prompt` is empty: describe what the video should show.",
    );
    expect(renderMessage("ja", say.wrongType("sound", "boolean"))).toMatch(
      /^`sound` には「True」か「False」を/,
    );
  });

  it("pick plural forms by their count", () => {
    expect(renderMessage("en", say.kling3Only(["sound"]))).toMatch(/^`sound` applies only .*remove it /);
    expect(renderMessage("en", say.kling3Only(["sound", "prompt_fidelity"]))).toMatch(
      /^`sound` and `prompt_fidelity` apply only .*remove them /,
    );
  });

  it("survive being stored as JSON", () => {
    const messages: Message[] = [
      say.mediaSize("image", 11 * 1024 * 1024, 10 * 1024 * 1024),
      message("validation.unknownSubcommand", { name: "`x`", ref: "ab12", known: orList(["`text`"]) }),
      message("state.failed"),
    ];
    for (const m of messages) {
      const stored = JSON.parse(JSON.stringify(m)) as Message;
      for (const locale of ["en", "ja"] as const)
        expect(renderMessage(locale, stored)).toBe(renderMessage(locale, m));
    }
    expect(renderMessage("en", messages[0]!)).toBe("`image` is 11 MiB; the limit is 10 MiB.");
  });
});

describe("localeOf", () => {
  it.each([
    ["ja", "ja"],
    ["ja-JP", "ja"],
    ["JA", "ja"],
    ["en-US", "en"],
    ["en-GB", "en"],
    ["zh-CN", "en"],
    ["jam", "en"],
    ["", "en"],
    [null, "en"],
    [undefined, "en"],
  ])("%s → %s", (discord, locale) => {
    expect(localeOf(discord)).toBe(locale);
  });
});
