/** Input limits the bot enforces before anything is reserved or sent. The README lists them. */
export const LIMITS = {
  promptMaxLength: 2000,
  negativePromptMaxLength: 2000,
  durationMin: 3,
  durationMax: 15,
  durationDefault: 5,
  urlMaxLength: 2000,
  referenceImagesMax: 7,
  /** Images: PNG, JPEG or WebP, at most 10 MiB each. */
  imageContentTypes: ["image/png", "image/jpeg", "image/webp"] as const,
  imageMaxBytes: 10 * 1024 * 1024,
  /** Videos: MP4 or MOV, at most 100 MiB. */
  videoContentTypes: ["video/mp4", "video/quicktime"] as const,
  videoMaxBytes: 100 * 1024 * 1024,
} as const;

export const ASPECT_RATIOS = ["16:9", "9:16", "1:1"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

/** Models a member picks; each maps to a task type per kind (see `taskTypeFor`). */
export const MODELS = ["pro", "std", "o3-pro", "o3-std"] as const;
export type Model = (typeof MODELS)[number];
export const DEFAULT_MODEL: Model = "std";

export const QUALITIES = ["pro", "std"] as const;
export type Quality = (typeof QUALITIES)[number];
