import { describe, expect, it } from "vitest";
import { COMMANDS, MESSAGE_COMMANDS, registrationBodies, toRegistrationBody } from "../../commands/index.js";
import { LOCALES } from "../../src/i18n/locale.js";

/**
 * Every command, subcommand and option is described in every language the bot speaks, and every choice is
 * named in it, within Discord's limits. Names are the interface: they are not translated.
 */

/** Discord's limits: names 1–32, descriptions 1–100, choice names 1–100 characters. */
const LIMIT = { name: 32, description: 100, choiceName: 100 } as const;
const TRANSLATED = LOCALES.filter((l) => l !== "en");

interface Described {
  name: string;
  description: string;
  description_localizations?: Partial<Record<string, string>>;
  name_localizations?: unknown;
  choices?: { name: string; name_localizations?: Partial<Record<string, string>>; value: unknown }[];
  options?: Described[];
}

/** Each command, subcommand and option with its path (`video text prompt`), from the registration JSON. */
function everything(): [string, Described][] {
  const out: [string, Described][] = [];
  const walk = (path: string, item: Described) => {
    out.push([path, item]);
    for (const option of item.options ?? []) walk(`${path} ${option.name}`, option);
  };
  for (const command of COMMANDS) walk(command.name, toRegistrationBody(command) as unknown as Described);
  return out;
}

const length = (text: string) => [...text].length;

describe.each(everything())("/%s", (_path, item) => {
  it("is described in every language within Discord's limit, and keeps its one name", () => {
    expect(item.name.length).toBeLessThanOrEqual(LIMIT.name);
    expect(item.name_localizations).toBeUndefined();
    expect(length(item.description)).toBeGreaterThan(0);
    expect(length(item.description)).toBeLessThanOrEqual(LIMIT.description);
    for (const locale of TRANSLATED) {
      const text = item.description_localizations?.[locale] ?? "";
      expect(text.trim(), locale).not.toBe("");
      expect(length(text), locale).toBeLessThanOrEqual(LIMIT.description);
      expect(text, locale).not.toBe(item.description);
    }
  });

  it("names every choice in every language within Discord's limit", () => {
    for (const choice of item.choices ?? []) {
      expect(length(choice.name)).toBeLessThanOrEqual(LIMIT.choiceName);
      for (const locale of TRANSLATED) {
        const text = choice.name_localizations?.[locale] ?? "";
        expect(text.trim(), `${String(choice.value)} ${locale}`).not.toBe("");
        expect(length(text), `${String(choice.value)} ${locale}`).toBeLessThanOrEqual(LIMIT.choiceName);
      }
    }
  });
});

it("sends the Japanese texts to Discord at registration", () => {
  const video = toRegistrationBody(COMMANDS.find((c) => c.name === "video")!);
  expect(video.description_localizations).toEqual({ ja: "Kling で短い動画クリップを作ります" });
  const text = video.options?.find((o) => o.name === "text") as unknown as Described;
  const model = text.options?.find((o) => o.name === "model");
  expect(model?.choices?.find((c) => c.value === "std")?.name_localizations).toEqual({
    ja: "Kling 3.0 Standard（標準）",
  });
});

describe.each(MESSAGE_COMMANDS.map((c) => [c.name, c] as const))(
  "the message command %s",
  (_name, command) => {
    it("is a guild-only message context menu, named in every language within Discord's limit", () => {
      const body = toRegistrationBody(command) as unknown as Described & { type: number; contexts: number[] };
      expect(body.type).toBe(3);
      expect(body.contexts).toEqual([0]);
      expect(body.description).toBeUndefined();
      expect(length(body.name)).toBeLessThanOrEqual(LIMIT.name);
      for (const locale of TRANSLATED) {
        const name = (body.name_localizations as Record<string, string> | undefined)?.[locale] ?? "";
        expect(name.trim(), locale).not.toBe("");
        expect(length(name), locale).toBeLessThanOrEqual(LIMIT.name);
        expect(name, locale).not.toBe(body.name);
      }
    });
  },
);

it("registers the slash commands and the message commands together", () => {
  expect(registrationBodies().map((b) => b.name)).toEqual(["video", "budget", "Animate with Kling"]);
});
