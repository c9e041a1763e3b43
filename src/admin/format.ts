/** Plain-text output of the admin commands: aligned tables that read in a terminal and survive `grep`. */

/** `2026-12-01 09:30:00 UTC`. */
export function utc(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A signed figure for a movement: `+500`, `-200`, `0`. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

/** Columns left-aligned, except those named in `right` (figures); the last column is not padded. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
) {
  const cells = [headers, ...rows].map((row) => row.map(oneLine));
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => row[c]?.length ?? 0)));
  return cells
    .map((row) =>
      row
        .map((cell, c) => {
          if (right.includes(c)) return cell.padStart(widths[c]!);
          return c === row.length - 1 ? cell : cell.padEnd(widths[c]!);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `key  value` lines with the keys aligned. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${oneLine(v)}`).join("\n");
}

/** Text written by people (a reason) on one line, so that a row stays a row. */
function oneLine(text: string): string {
  return text.replace(/[\s\p{Cc}]+/gu, " ").trim();
}

/** JSON with dates as ISO strings and no `undefined` keys. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
