import {
  ASPECT_RATIOS,
  type AspectRatio,
  DEFAULTS,
  type KlingModel,
  MAX_DURATION,
  MAX_PROMPT_LENGTH,
  MIN_DURATION,
  MODELS,
} from "../kling/types.js";

/**
 * Input limits the bot enforces before anything is reserved or sent; the README lists them. The API's own
 * rules (durations, prompt length, models, aspect ratios) come from the Kling module; the rest are the bot's.
 */
export const LIMITS = {
  promptMaxLength: MAX_PROMPT_LENGTH,
  negativePromptMaxLength: MAX_PROMPT_LENGTH,
  durationMin: MIN_DURATION,
  durationMax: MAX_DURATION,
  durationDefault: DEFAULTS.duration,
  urlMaxLength: 2000,
  /** Images: PNG, JPEG or WebP, at most 10 MiB each. */
  imageContentTypes: ["image/png", "image/jpeg", "image/webp"] as const,
  imageMaxBytes: 10 * 1024 * 1024,
  /** Videos: MP4 or MOV, at most 100 MiB. */
  videoContentTypes: ["video/mp4", "video/quicktime"] as const,
  videoMaxBytes: 100 * 1024 * 1024,
} as const;

export { ASPECT_RATIOS, type AspectRatio, MODELS };

/** Models a member picks; each maps to a task type per kind (see `taskTypeFor`). */
export type Model = KlingModel;
export const DEFAULT_MODEL: Model = "std";

export const MODEL_LABELS: Readonly<Record<Model, string>> = {
  pro: "Kling 3.0 Pro",
  std: "Kling 3.0 Standard",
  "o3-pro": "Kling O3 Pro",
  "o3-std": "Kling O3 Standard",
};

export const QUALITIES = ["pro", "std"] as const;
export type Quality = (typeof QUALITIES)[number];
