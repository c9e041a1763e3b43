import { andList, type Message, message, orList, type ParamValue } from "../i18n/index.js";

/**
 * Every refusal of a /video request, in one table: each names its option (shown in backticks by the
 * catalogue) and says what to change. They are messages in no language yet: the reply renders them in the
 * member's (`renderMessage`); the texts are the `validation.*` keys of src/i18n.
 */

const code = (name: string) => `\`${name}\``;
const codePoint = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

/**
 * Text from the payload (a file name, a content type, a subcommand) shown inside backticks: no backticks,
 * control or invisible characters, at most 60 characters.
 */
function shown(text: string): ParamValue {
  const clean = Array.from(text.replace(/[`\p{C}]/gu, ""))
    .slice(0, 60)
    .join("")
    .trim();
  return clean ? code(clean) : message("validation.noName");
}

/** What each free-text option should hold, for the message that it is empty. */
function hint(option: string): Message {
  if (option === "prompt") return message("validation.hint.prompt");
  if (option === "negative_prompt") return message("validation.hint.negativePrompt");
  return message("validation.hint.default");
}

/** How a value of each expected kind is described (numbers and files have messages of their own). */
export type Expected = "text" | "boolean";

export const say = {
  empty: (option: string) => message("validation.empty", { option, hint: hint(option) }),
  invisible: (option: string) => message("validation.invisible", { option, hint: hint(option) }),
  controlCharacter: (option: string, cp: number) =>
    message("validation.controlCharacter", { option, codePoint: codePoint(cp) }),
  brokenCharacter: (option: string, cp: number) =>
    message("validation.brokenCharacter", { option, codePoint: codePoint(cp) }),
  // A character limit is written as Discord writes its own ("2000"), not grouped like a quantity.
  tooLong: (option: string, max: number) => message("validation.tooLong", { option, max: String(max) }),
  wrongType: (option: string, expected: Expected) =>
    message("validation.wrongType", { option, expected: message(`validation.expected.${expected}`) }),
  notChoice: (option: string, choices: readonly string[]) =>
    message("validation.notChoice", { option, choices: orList(choices.map(code)) }),
  notHttps: (option: string) => message("validation.notHttps", { option }),
  linkCredentials: (option: string) => message("validation.linkCredentials", { option }),
  linkNotPublic: (option: string) => message("validation.linkNotPublic", { option }),
  notAttached: (option: string) => message("validation.notAttached", { option }),
  mediaType: (option: string, media: "image" | "video", name: string, type: string) => {
    const label = message(`validation.media.${media}`);
    return type
      ? message("validation.mediaType", { option, media: label, name: shown(name), type: shown(type) })
      : message("validation.mediaTypeUnknown", { option, media: label, name: shown(name) });
  },
  mediaSize: (option: string, size: number, max: number) =>
    message("validation.mediaSize", { option, size: mib(size), max: mib(max) }),
  both: (a: string, b: string) => message("validation.both", { a, b }),
  neither: (a: string, b: string) => message("validation.neither", { a, b }),
  referenceImageMissing: (option: string) => message("validation.referenceImageMissing", { option }),
  kling3Only: (options: readonly string[]) =>
    message("validation.kling3Only", { count: options.length, options: andList(options.map(code)) }),
  durationWhole: (option: string) => message("validation.durationWhole", { option }),
  durationRange: (option: string, min: number, max: number) =>
    message("validation.durationRange", { option, min, max }),
  fidelityRange: (option: string) => message("validation.fidelityRange", { option }),
  jobNumber: (option: string) => message("validation.jobNumber", { option }),
  unknownSubcommand: (name: string, known: readonly string[], ref: string) =>
    message("validation.unknownSubcommand", { name: shown(name), ref, known: orList(known.map(code)) }),
  /** A value refused by a rule that has no message of its own (a bug: every rule should have one). */
  unexpected: (option: string | undefined) =>
    option === undefined
      ? message("validation.unexpectedRequest")
      : message("validation.unexpected", { option }),
} as const;
