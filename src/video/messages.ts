/**
 * Every refusal of a /video request, in one table: each names its option in backticks and says what to
 * change. English for now; this is the table an English/Japanese catalogue will replace.
 */

const opt = (name: string) => `\`${name}\``;
const list = (values: readonly string[]) => {
  const quoted = values.map(opt);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}` : (quoted[0] ?? "");
};
const codePoint = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
const mib = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

/**
 * Text from the payload (a file name, a content type, a subcommand) shown inside backticks: no backticks,
 * control or invisible characters, at most 60 characters.
 */
function shown(text: string): string {
  const clean = Array.from(text.replace(/[`\p{C}]/gu, ""))
    .slice(0, 60)
    .join("")
    .trim();
  return clean ? `\`${clean}\`` : "(no name)";
}

/** What each free-text option should hold, for the message that it is empty. */
const FREE_TEXT_HINT: Readonly<Record<string, string>> = {
  prompt: "describe what the video should show",
  negative_prompt: "leave it out or say what to avoid",
};
const hint = (option: string) => FREE_TEXT_HINT[option] ?? "fill it in";

/** How a value of each expected kind is described (numbers and files have messages of their own). */
export const EXPECTED = {
  text: "text",
  boolean: "True or False",
} as const;

const MEDIA_LABEL = {
  image: "a PNG, JPEG or WebP image",
  video: "an MP4 or MOV video",
} as const;

export const say = {
  empty: (option: string) => `${opt(option)} is empty: ${hint(option)}.`,
  invisible: (option: string) =>
    `${opt(option)} has no visible characters: ${hint(option)} in words (spaces, invisible and formatting characters alone do not count).`,
  controlCharacter: (option: string, cp: number) =>
    `${opt(option)} contains the control character ${codePoint(cp)}: remove it (tabs and line breaks are fine).`,
  brokenCharacter: (option: string, cp: number) =>
    `${opt(option)} contains ${codePoint(cp)}, half of a character that was cut apart (often an emoji): remove it or paste the whole character again.`,
  tooLong: (option: string, max: number) => `${opt(option)} is too long (at most ${max} characters).`,
  wrongType: (option: string, expected: (typeof EXPECTED)[keyof typeof EXPECTED]) =>
    `${opt(option)} must be ${expected}; Discord may be showing an old version of this command: reload Discord and fill it in again.`,
  notChoice: (option: string, choices: readonly string[]) =>
    `${opt(option)} must be one of ${list(choices)}: pick one from the list.`,
  notHttps: (option: string) => `${opt(option)} must be an https:// link to the file.`,
  linkCredentials: (option: string) =>
    `${opt(option)} contains a user name or password: give a plain https:// link to the file.`,
  linkNotPublic: (option: string) =>
    `${opt(option)} points to a private or local address: give a public https:// link to the file, or attach it.`,
  notAttached: (option: string) =>
    `${opt(option)} did not arrive as a Discord attachment: attach the file again.`,
  mediaType: (option: string, media: keyof typeof MEDIA_LABEL, name: string, type: string) =>
    `${opt(option)} must be ${MEDIA_LABEL[media]}; ${shown(name)} is ${type ? shown(type) : "of unknown type"}.`,
  mediaSize: (option: string, size: number, max: number) =>
    `${opt(option)} is ${mib(size)}; the limit is ${mib(max)}.`,
  both: (a: string, b: string) => `Give either ${opt(a)} or ${opt(b)}, not both.`,
  neither: (a: string, b: string) => `Attach ${opt(a)} or give ${opt(b)}.`,
  referenceImageMissing: (option: string) => `Attach at least one reference image (${opt(option)}).`,
  kling3Only: (options: readonly string[]) =>
    `${options.map(opt).join(" and ")} ${options.length > 1 ? "apply" : "applies"} only to Kling 3.0 models (\`pro\`, \`std\`): remove ${options.length > 1 ? "them" : "it"} or pick one of those models.`,
  durationWhole: (option: string) => `${opt(option)} must be a whole number of seconds.`,
  durationRange: (option: string, min: number, max: number) =>
    `${opt(option)} must be ${min}–${max} seconds.`,
  fidelityRange: (option: string) => `${opt(option)} must be 0–1.`,
  jobNumber: (option: string) =>
    `${opt(option)} must be a job number (a whole number from 1): pick one from the list or see \`/video history\`.`,
  unknownSubcommand: (name: string, known: readonly string[], ref: string) =>
    `\`/video\` has no subcommand ${shown(name)} (reference \`${ref}\`): Discord may be showing an old command list; reload Discord and pick ${list(known)}.`,
} as const;
