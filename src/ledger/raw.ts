import { z } from "zod";

/**
 * A bigint read by a raw query: postgres.js returns it as a string, PGlite as a number. Anything else (a
 * missing column, a value past 2^53) is a bug to stop at, not a number to guess.
 */
export const rawInteger = z
  .union([z.number(), z.string().regex(/^-?\d+$/)])
  .transform(Number)
  .pipe(z.number().int());
