import type { Message } from "../i18n/index.js";
import { say } from "./messages.js";

/**
 * Rules for free text members type into an option. Postgres refuses NUL in text and jsonb, and an unpaired
 * surrogate in jsonb: such text would be accepted here and fail after the reply was deferred publicly.
 */

/** Control characters (C0, DEL, C1) other than tab, line feed and carriage return. */
const CONTROL = /[\p{Cc}--[\t\n\r]]/v;
/** An unpaired surrogate: with the `u` flag a proper pair is one code point, never `Cs`. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * A character that shows: not white space, not default-ignorable (zero-width, bidi controls, Hangul fillers,
 * variation selectors, tags), not a mark on its own, not another control, format, private-use or unassigned
 * code point, and not the blank Braille pattern (a symbol that draws nothing).
 */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{M}\p{C}\u2800]/v;

/** Characters no option may hold, whatever it is for (links included). */
export function unstorableProblems(option: string, text: string): Message[] {
  const problems: Message[] = [];
  const lone = LONE_SURROGATE.exec(text);
  if (lone) problems.push(say.brokenCharacter(option, lone[0].charCodeAt(0)));
  const control = CONTROL.exec(text);
  if (control) problems.push(say.controlCharacter(option, control[0].codePointAt(0) ?? 0));
  return problems;
}

/** Problems of trimmed free text (a prompt): characters, emptiness, visibility and length. */
export function freeTextProblems(option: string, text: string, maxLength: number): Message[] {
  if (text.length === 0) return [say.empty(option)];
  const problems = unstorableProblems(option, text);
  if (!VISIBLE.test(text)) problems.push(say.invisible(option));
  if (text.length > maxLength) problems.push(say.tooLong(option, maxLength));
  return problems;
}
