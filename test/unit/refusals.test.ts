import { ApplicationCommandOptionType as T } from "discord.js";
import { describe, expect, it } from "vitest";
import type { AttachmentInfo, SubcommandDef, ValueOption } from "../../commands/define.js";
import { VideoEdit, VideoImage, VideoReference, VideoStatus, VideoText } from "../../commands/video.js";
import { type Message, renderMessage } from "../../src/i18n/index.js";
import {
  validateEdit,
  validateImage,
  validateReference,
  validateStatus,
  validateText,
} from "../../src/video/validate.js";

/**
 * Every refusal names the option it is about and says what to change, whatever arrives: Discord enforces
 * the command data, but a stale registration or a forged payload can still send any type or value.
 */

const png = (over: Partial<AttachmentInfo> = {}): AttachmentInfo => ({
  id: "1",
  name: "a.png",
  url: "https://cdn.discordapp.com/attachments/1/2/a.png",
  contentType: "image/png",
  size: 1000,
  ...over,
});
const mp4 = (over: Partial<AttachmentInfo> = {}): AttachmentInfo => ({
  id: "2",
  name: "v.mp4",
  url: "https://cdn.discordapp.com/attachments/1/2/v.mp4",
  contentType: "video/mp4",
  size: 1000,
  ...over,
});

type Result = { ok: true } | { ok: false; problems: Message[] };

/** The problems as an English reply shows them. */
const english = (r: Result): string[] => (r.ok ? [] : r.problems.map((p) => renderMessage("en", p)));
type Validate = (args: Record<string, unknown>) => Result;

/** Each subcommand with a valid set of options and its validator (arguments deliberately untyped). */
const SUBCOMMANDS: [SubcommandDef, Record<string, unknown>, Validate][] = [
  [VideoText, { prompt: "a cat on a skateboard" }, validateText as unknown as Validate],
  [VideoImage, { prompt: "it turns", image: png() }, validateImage as unknown as Validate],
  [VideoReference, { prompt: "a city walk", image1: png() }, validateReference as unknown as Validate],
  [VideoEdit, { prompt: "make it snow", video: mp4() }, validateEdit as unknown as Validate],
  [VideoStatus, { job: 1 }, validateStatus as unknown as Validate],
];

const INVISIBLE_ONLY = [
  "\u200b",
  "\u200c\u200d",
  "\u2060",
  "\ufeff",
  "\u200e\u200f",
  "\u202a\u202b\u202c\u202d\u202e",
  "\u2066\u2067\u2068\u2069",
  "\u2800\u2800",
  "\u115f",
  "\u1160",
  "\u3164\u3164",
  "\uffa0",
  "\u0301\u0308",
  "\u034f",
  "\u00ad",
  "\u180e",
  "\ufe0f",
  "\u{e0041}\u{e0042}",
  "\u2062",
  " \u3000\u2003\u00a0 ",
];
const UNSTORABLE = ["a\u0000b", "\u0000", "cat\ud800", "\udc00cat", "a\ud83d b", "\ud83d"];
const CONTROL = ["a\u0001", "bell\u0007", "esc\u001b[31m", "del\u007f", "c1\u0085", "c1\u009b"];

/** Values that are wrong for an option of this type, whatever the rest of the request says. */
function wrongValues(option: ValueOption): unknown[] {
  const notString = [5, 1.5, true, {}, ["a"]];
  const notNumber = ["5", true, {}, [1]];
  switch (option.type) {
    case T.String: {
      if ("choices" in option && option.choices) {
        const first = option.choices[0]!.value;
        return [
          ...notString,
          "nope",
          "",
          first.toUpperCase() === first ? "x" : first.toUpperCase(),
          ` ${first}`,
        ];
      }
      if (option.name.endsWith("_url")) {
        return [
          ...notString,
          "",
          "not a link",
          "http://example.com/a.png",
          "https://127.0.0.1/a.png",
          "https://user:pw@example.com/a.png",
          "https://example.com/a\u0000.png",
          `https://example.com/${"a".repeat(2001)}`,
        ];
      }
      return [...notString, "", "   ", ...INVISIBLE_ONLY, ...UNSTORABLE, ...CONTROL, "x".repeat(2001)];
    }
    case T.Integer:
    case T.Number: {
      const below = option.min_value === undefined ? [] : [option.min_value - 1, option.min_value - 0.1];
      const above = option.max_value === undefined ? [] : [option.max_value + 1, option.max_value + 0.1];
      const whole = option.type === T.Integer ? [1.5, 2 ** 60] : [];
      return [...notNumber, ...below, ...above, ...whole];
    }
    case T.Boolean:
      return ["true", 1, 0, {}, []];
    case T.Channel:
    case T.Role:
    case T.User:
      // Not used by /video; ids are checked by the handlers that take them.
      return [];
    case T.Attachment:
      return [
        "123",
        5,
        true,
        {},
        { id: "9", name: "x" },
        png({ contentType: "text/html", name: "x.html" }),
        mp4({ contentType: "application/x-msdownload", name: "`@everyone`.exe" }),
        png({ contentType: null }),
        png({ size: 500 * 1024 * 1024 }),
        png({ url: "https://169.254.169.254/latest/meta-data/" }),
        png({ url: "http://cdn.discordapp.com/a.png" }),
        png({ url: "https://cdn.discordapp.com/attachments/1/2/a\u0000.png" }),
        png({ url: "https://cdn.discordapp.com/attachments/1/2/a\ud800.png" }),
      ];
  }
}

describe.each(SUBCOMMANDS)("/video %s", (sub, valid, validate) => {
  it("accepts the valid baseline", () => {
    expect(validate(valid)).toMatchObject({ ok: true });
  });

  for (const option of sub.options ?? []) {
    it(`names \`${option.name}\` in every refusal of a wrong value for it`, () => {
      const missed: string[] = [];
      for (const value of wrongValues(option)) {
        const result = validate({ ...valid, [option.name]: value });
        const label = JSON.stringify(value)?.slice(0, 60);
        if (result.ok) {
          missed.push(`${label}: accepted`);
          continue;
        }
        for (const p of english(result)) {
          if (!p.includes(`\`${option.name}\``)) missed.push(`${label}: ${p}`);
          if (/Invalid (input|option)|expected /.test(p)) missed.push(`${label}: zod wording: ${p}`);
        }
      }
      expect(missed).toEqual([]);
    });
  }
});

describe("free text", () => {
  const text = (prompt: unknown, negative?: unknown) =>
    validateText({ prompt, negative_prompt: negative } as unknown as Parameters<typeof validateText>[0]);
  const problems = (r: Result) => english(r).join("\n");

  it.each(INVISIBLE_ONLY.filter((s) => s.trim() !== ""))("refuses the invisible prompt %j", (prompt) => {
    expect(problems(text(prompt))).toMatch(/`prompt` has no visible characters: describe/);
    expect(problems(text("a cat", prompt))).toMatch(/`negative_prompt` has no visible characters/);
  });

  it("names the control character and the broken half of a pair", () => {
    expect(problems(text("a\u0000b"))).toMatch(/`prompt` contains the control character U\+0000/);
    expect(problems(text("a\u009bb"))).toMatch(/`prompt` contains the control character U\+009B/);
    expect(problems(text("cat \ud83d"))).toMatch(/`prompt` contains U\+D83D, half of a character/);
    expect(problems(text("cat", "\udc00 dog"))).toMatch(/`negative_prompt` contains U\+DC00/);
  });

  it.each([
    "a cat\ton a skateboard",
    "line one\nline two\r\n",
    "🐈 on a 🛹",
    "e\u0301te\u0301",
    "\u202bשלום\u202c cat",
    "\u200fمرحبا",
    "हिन्दी",
    "👩‍👩‍👧",
    "…",
  ])("accepts the prompt %j", (prompt) => {
    expect(text(prompt)).toMatchObject({ ok: true });
  });
});

describe("links", () => {
  const imageUrl = (image_url: string) =>
    validateImage({ prompt: "it turns", image_url } as unknown as Parameters<typeof validateImage>[0]);

  it("forwards the parsed link, so the API cannot read another host out of it", () => {
    const v = imageUrl("https://example.com\\@127.0.0.1/a.png");
    expect(v.ok && v.value.generate.image).toBe("https://example.com/@127.0.0.1/a.png");
    const w = imageUrl("  https://EXAMPLE.com/a%20b.png ");
    expect(w.ok && w.value.generate.image).toBe("https://example.com/a%20b.png");
  });

  it.each([
    "https://127.0.0.1/a.png",
    "https://2130706433/a.png",
    "https://0x7f.1/a.png",
    "https://[::1]/a.png",
    "https://[::ffff:127.0.0.1]/a.png",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/a.png",
    "https://localhost/a.png",
    "https://api.localhost/a.png",
    "https://intranet/a.png",
  ])("refuses the internal link %s", (url) => {
    const v = imageUrl(url);
    expect(v.ok).toBe(false);
    expect(english(v).join("\n")).toMatch(/`image_url` points to a private or local address/);
  });

  it.each([
    "https:///a.png",
    "https:\\\\example.com/a.png",
    "https:example.com/a.png",
    "https:/example.com/a.png",
  ])("refuses %s, which only a lenient parser reads as a link", (url) => {
    // WHATWG parsing skips the extra or missing slashes (`https:///a.png` has the host `a.png`); other
    // parsers do not, so such text is not a link.
    const v = imageUrl(url);
    expect(english(v).join("\n")).toMatch(/`image_url` must be an https:\/\/ link/);
  });

  it("refuses a link with a user name or password", () => {
    const v = imageUrl("https://user:pass@example.com/a.png");
    expect(english(v).join("\n")).toMatch(/`image_url` contains a user name or password/);
  });
});
