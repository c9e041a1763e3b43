import {
  DEFAULTS,
  type GenerateRequest,
  kindOf,
  MAX_DURATION,
  MIN_DURATION,
  TASK_TYPES,
  type TaskType,
} from "./types.js";

/**
 * Kling's price list in credits, from the seed. Kling 3.0 charges per second with a higher rate when native
 * audio is on; O3 charges per second whatever the sound; video edits cost a fixed amount ("auto" duration).
 */
export type Price =
  | { readonly basis: "per-second-by-sound"; readonly withSound: number; readonly withoutSound: number }
  | { readonly basis: "per-second"; readonly perSecond: number }
  | { readonly basis: "fixed"; readonly credits: number };

export const PRICES: Readonly<Record<TaskType, Price>> = Object.freeze({
  "pro-text-to-video": { basis: "per-second-by-sound", withSound: 80, withoutSound: 54 },
  "pro-image-to-video": { basis: "per-second-by-sound", withSound: 80, withoutSound: 54 },
  "std-text-to-video": { basis: "per-second-by-sound", withSound: 60, withoutSound: 40 },
  "std-image-to-video": { basis: "per-second-by-sound", withSound: 60, withoutSound: 40 },
  "o3-pro-text-to-video": { basis: "per-second", perSecond: 48 },
  "o3-pro-image-to-video": { basis: "per-second", perSecond: 48 },
  "o3-pro-reference-to-video": { basis: "per-second", perSecond: 72 },
  "o3-pro-video-edit": { basis: "fixed", credits: 435 },
  "o3-std-text-to-video": { basis: "per-second", perSecond: 36 },
  "o3-std-image-to-video": { basis: "per-second", perSecond: 36 },
  "o3-std-reference-to-video": { basis: "per-second", perSecond: 20 },
  "o3-std-video-edit": { basis: "fixed", credits: 360 },
});

/**
 * Credits Kling charges for one task. `duration` defaults to 5 s and `sound` to on, as the API does;
 * both are ignored where the price does not depend on them. Throws RangeError on a duration the API would refuse,
 * so a wrong number never turns into a wrong charge.
 */
export function cost(
  type: TaskType,
  duration: number = DEFAULTS.duration,
  sound: boolean = DEFAULTS.sound,
): number {
  const price = PRICES[type];
  if (!price) throw new RangeError(`unknown task type: ${String(type)}`);
  if (price.basis === "fixed") return price.credits;
  if (!Number.isInteger(duration) || duration < MIN_DURATION || duration > MAX_DURATION) {
    throw new RangeError(
      `duration must be a whole number from ${MIN_DURATION} to ${MAX_DURATION}, got ${duration}`,
    );
  }
  const perSecond =
    price.basis === "per-second" ? price.perSecond : sound ? price.withSound : price.withoutSound;
  return perSecond * duration;
}

/** Credits for a validated request, applying the API's defaults for what it leaves out. */
export function costOfRequest(req: Pick<GenerateRequest, "type" | "duration" | "sound">): number {
  if (kindOf(req.type) === "video-edit") return cost(req.type);
  return cost(req.type, req.duration, req.sound);
}

/**
 * A first guess of how long the API takes to make a video, for the progress bar until a job of the same type
 * has finished (then the median of real run times replaces it). The API publishes no figures; these are
 * typical ones: half a minute plus, per second of video, 12 s on Standard and 20 s on Pro; an edit, whose
 * price is fixed because its length follows the source, a fixed 150 s (Standard) or 200 s (Pro).
 */
export function expectedRunTimeMs(type: TaskType, duration: number = DEFAULTS.duration): number {
  const pro = type.startsWith("pro-") || type.startsWith("o3-pro-");
  if (PRICES[type].basis === "fixed") return pro ? 200_000 : 150_000;
  return 30_000 + (pro ? 20_000 : 12_000) * duration;
}

/** The price in words, for help texts and the README: "80/s with audio, 54/s without", "48/s", "435 fixed". */
export function describePrice(type: TaskType): string {
  const price = PRICES[type];
  switch (price.basis) {
    case "per-second-by-sound":
      return `${price.withSound}/s with audio, ${price.withoutSound}/s without`;
    case "per-second":
      return `${price.perSecond}/s`;
    case "fixed":
      return `${price.credits} fixed`;
  }
}

/** Rows of the price table, in the seed's order. */
export function priceTable(): { type: TaskType; price: Price; description: string }[] {
  return TASK_TYPES.map((type) => ({ type, price: PRICES[type], description: describePrice(type) }));
}
