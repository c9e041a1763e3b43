/**
 * Blocklist matching: case-, width- and accent-insensitive (full-width and half-width Japanese match, é is e),
 * whole words for Latin scripts, substrings for Chinese and Japanese scripts (they do not separate words).
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** The form both a phrase and a prompt are compared in. */
export function foldText(text: string): string {
  return text
    .normalize("NFKC") // full-width ↔ half-width, compatibility forms
    .normalize("NFD")
    .replace(/\p{M}/gu, "") // accents (and dakuten: ガ and カ compare alike, a deliberate loosening)
    .toLowerCase()
    .replace(/\s+/gu, " ");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The first listed phrase found in any of the texts, or undefined. */
export function findBlocked(
  texts: readonly (string | undefined)[],
  phrases: readonly { phrase: string }[],
): string | undefined {
  const folded = texts.filter((t): t is string => Boolean(t)).map(foldText);
  for (const { phrase } of phrases) {
    const p = foldText(phrase).trim();
    if (!p) continue;
    const hit = CJK.test(p)
      ? folded.some((t) => t.includes(p))
      : folded.some((t) =>
          new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(p)}(?![\\p{L}\\p{N}])`, "u").test(t),
        );
    if (hit) return phrase;
  }
  return undefined;
}
