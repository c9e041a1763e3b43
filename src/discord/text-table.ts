/**
 * Tables in a Discord code block: columns aligned in a monospaced font, where Chinese and Japanese characters
 * (and most emoji) take two columns, so a Japanese header or name does not push its row out of line.
 */

/** East Asian wide and full-width ranges, and the emoji blocks: two columns each. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;
/** Combining marks, variation selectors and format characters (zero-width joiners): no column of their own. */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u;

/** How many monospaced columns a text takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += ZERO_WIDTH.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return width;
}

/**
 * A cell's text: one line, nothing that could close the code block (a backtick) or reorder the row (bidi
 * controls and other format characters are dropped), at most `max` columns (cut with "…").
 */
export function cell(text: string, max: number): string {
  const clean = text
    .replace(/`/g, "'")
    .replace(/\p{Cf}/gu, "")
    .replace(/[\s\p{Cc}]+/gu, " ")
    .trim();
  if (displayWidth(clean) <= max) return clean;
  let out = "";
  for (const ch of clean) {
    if (displayWidth(out + ch) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

function pad(text: string, width: number, right: boolean): string {
  const fill = " ".repeat(Math.max(width - displayWidth(text), 0));
  return right ? fill + text : text + fill;
}

/**
 * Rows under a header, columns two spaces apart; the columns named in `right` (figures) are right-aligned.
 * Cells must already be one line each (see `cell`).
 */
export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => displayWidth(row[c] ?? ""))));
  return all.map((row) =>
    row
      .map((text, c) => pad(text, widths[c]!, right.includes(c)))
      .join("  ")
      .trimEnd(),
  );
}
