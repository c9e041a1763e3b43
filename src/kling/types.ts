import { z } from "zod";
import { KlingRequestError } from "./errors.js";

/**
 * The Kling task types, their families and kinds, and the one schema that turns a caller's
 * request into a valid `GenerateRequest`. Field names on the wire live in `WIRE_FIELDS` only.
 */

export const TASK_TYPES = [
  "pro-text-to-video",
  "pro-image-to-video",
  "std-text-to-video",
  "std-image-to-video",
  "o3-pro-text-to-video",
  "o3-pro-image-to-video",
  "o3-pro-reference-to-video",
  "o3-pro-video-edit",
  "o3-std-text-to-video",
  "o3-std-image-to-video",
  "o3-std-reference-to-video",
  "o3-std-video-edit",
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_FAMILIES = ["kling3", "o3"] as const;
export type TaskFamily = (typeof TASK_FAMILIES)[number];

export const TASK_KINDS = ["text-to-video", "image-to-video", "reference-to-video", "video-edit"] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const MODELS = ["pro", "std", "o3-pro", "o3-std"] as const;
export type KlingModel = (typeof MODELS)[number];

export const ASPECT_RATIOS = ["16:9", "9:16", "1:1"] as const;
export type AspectRatio = (typeof ASPECT_RATIOS)[number];

export const MIN_DURATION = 3;
export const MAX_DURATION = 15;
export const MAX_PROMPT_LENGTH = 2000;
export const MAX_REFERENCE_IMAGES = 7;

/** What the API assumes when a field is left out (from the seed). Pricing uses these too. */
export const DEFAULTS = Object.freeze({
  duration: 5,
  aspectRatio: "16:9" as AspectRatio,
  sound: true,
  promptFidelity: 0.5,
});

export function isTaskType(value: unknown): value is TaskType {
  return typeof value === "string" && (TASK_TYPES as readonly string[]).includes(value);
}

export function familyOf(type: TaskType): TaskFamily {
  return type.startsWith("o3-") ? "o3" : "kling3";
}

export function kindOf(type: TaskType): TaskKind {
  // Every type name ends with its kind, after the model prefix.
  const kind = TASK_KINDS.find((k) => type.endsWith(`-${k}`));
  if (!kind) throw new Error(`unreachable: no kind for task type ${type}`);
  return kind;
}

/** The task type for a kind on a model, or undefined when Kling has no such type (reference/edit exist only on O3). */
export function taskTypeFor(kind: TaskKind, model: KlingModel): TaskType | undefined {
  const candidate = `${model}-${kind}`;
  return isTaskType(candidate) ? candidate : undefined;
}

/** The model of a task type (`o3-pro-video-edit` → `o3-pro`); undefined for a type Kling does not have. */
export function modelOf(type: string): KlingModel | undefined {
  return isTaskType(type) ? (type.slice(0, -kindOf(type).length - 1) as KlingModel) : undefined;
}

/** A generation request in the bot's own terms (camelCase). `toWireBody` turns it into the API's JSON. */
export interface GenerateRequest {
  type: TaskType;
  prompt: string;
  /** Seconds, 3–15; absent for video edits (the API chooses). Default 5. */
  duration?: number;
  aspectRatio?: AspectRatio;
  /** Start image (image-to-video). */
  image?: string;
  /** Last frame (image-to-video only). */
  endImage?: string;
  /** The video to edit (video-edit) or a reference video (reference-to-video). */
  video?: string;
  /** Reference images (reference-to-video), 1–7. */
  images?: string[];
  /** Native audio; Kling 3.0 only. Default true. */
  sound?: boolean;
  negativePrompt?: string;
  /** 0–1; Kling 3.0 only. Default 0.5. */
  promptFidelity?: number;
  /** Video edit only: keep the source video's audio. */
  keepOriginalSound?: boolean;
}

/**
 * How long the bot counts on a finished task's video link (`response[0]`). The API promises none: Kling's own
 * service deletes its files after 30 days, other hosts after 24 h to 7 days; the bot counts the shortest.
 */
export const RESULT_URL_LIFETIME_MS = 24 * 3_600_000;

/** A task's state as the bot sees it, normalised from the API's status words by the client. */
export type TaskStatus =
  | { state: "running"; taskId: string; rawStatus: string; consumedCredits?: number }
  | { state: "succeeded"; taskId: string; videoUrl: string; consumedCredits?: number }
  /** `reason`: the service's own words, when it gave some; `rawStatus`: its status word (e.g. EXPIRED). */
  | { state: "failed"; taskId: string; rawStatus: string; reason?: string; consumedCredits?: number }
  /** The API says the task succeeded but names no video the bot may fetch (none, not a URL, not http(s)). */
  | { state: "unusable"; taskId: string; reason: string; consumedCredits?: number };

/**
 * Domain field → wire field. The seed shows `type`, `prompt`, `duration`, `aspect_ratio`, `image`, `video`,
 * `images`, `sound` and `keep_original_sound`. It does NOT show the names of the end image, the negative prompt
 * or the prompt fidelity: those three are Kling's own API names, a guess to correct here if the gateway differs.
 */
export const WIRE_FIELDS = Object.freeze({
  type: "type",
  prompt: "prompt",
  duration: "duration",
  aspectRatio: "aspect_ratio",
  image: "image",
  endImage: "image_tail", // guessed (not in the seed)
  video: "video",
  images: "images",
  sound: "sound",
  negativePrompt: "negative_prompt", // guessed (not in the seed)
  promptFidelity: "cfg_scale", // guessed (not in the seed)
  keepOriginalSound: "keep_original_sound",
} as const satisfies Record<keyof GenerateRequest, string>);

export type WireBody = Record<string, string | number | boolean | string[]>;

/** The JSON body of POST /api/generate. Undefined fields are left out; edits never carry a duration. */
export function toWireBody(req: GenerateRequest): WireBody {
  const body: WireBody = {};
  for (const key of Object.keys(WIRE_FIELDS) as (keyof GenerateRequest)[]) {
    const value = req[key];
    if (value === undefined) continue;
    if (key === "duration" && kindOf(req.type) === "video-edit") continue;
    body[WIRE_FIELDS[key]] = Array.isArray(value) ? [...value] : value;
  }
  return body;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const url = (what: string) =>
  z
    .string({ error: `${what} must be a link (text starting with http:// or https://).` })
    .trim()
    .refine(isHttpUrl, { message: `${what} must be an http:// or https:// link.` });

const KIND_LABEL: Record<TaskKind, string> = {
  "text-to-video": "Text-to-video",
  "image-to-video": "Image-to-video",
  "reference-to-video": "Reference-to-video",
  "video-edit": "Video edit",
};

/**
 * Field checks run independently, then the cross-field rules run even when a field failed (`when`), so the
 * caller hears every problem at once.
 */
export const generateRequestSchema = z
  .strictObject({
    type: z.enum(TASK_TYPES, { error: `The task type must be one of: ${TASK_TYPES.join(", ")}.` }),
    prompt: z
      .string({ error: "The prompt must be text." })
      .trim()
      .min(1, { error: "The prompt is empty: describe the video you want." })
      .max(MAX_PROMPT_LENGTH, {
        error: `The prompt is too long: use at most ${MAX_PROMPT_LENGTH} characters.`,
      }),
    duration: z
      .number({
        error: `The duration must be a whole number of seconds from ${MIN_DURATION} to ${MAX_DURATION}.`,
      })
      .int({
        error: `The duration must be a whole number of seconds from ${MIN_DURATION} to ${MAX_DURATION}.`,
      })
      .min(MIN_DURATION, { error: `The duration must be at least ${MIN_DURATION} seconds.` })
      .max(MAX_DURATION, { error: `The duration must be at most ${MAX_DURATION} seconds.` })
      .optional(),
    aspectRatio: z
      .enum(ASPECT_RATIOS, { error: `The aspect ratio must be one of ${ASPECT_RATIOS.join(", ")}.` })
      .optional(),
    image: url("The image").optional(),
    endImage: url("The end image").optional(),
    video: url("The video").optional(),
    images: z
      .array(url("Each reference image"), { error: "The reference images must be a list of links." })
      .min(1, { error: "Give at least one reference image." })
      .max(MAX_REFERENCE_IMAGES, { error: `Give at most ${MAX_REFERENCE_IMAGES} reference images.` })
      .optional(),
    sound: z.boolean({ error: "Sound must be on or off (true or false)." }).optional(),
    negativePrompt: z
      .string({ error: "The negative prompt must be text." })
      .trim()
      .max(MAX_PROMPT_LENGTH, {
        error: `The negative prompt must be at most ${MAX_PROMPT_LENGTH} characters.`,
      })
      .transform((v) => (v === "" ? undefined : v))
      .optional(),
    promptFidelity: z
      .number({ error: "The prompt fidelity must be a number from 0 to 1." })
      .min(0, { error: "The prompt fidelity must be a number from 0 to 1." })
      .max(1, { error: "The prompt fidelity must be a number from 0 to 1." })
      .optional(),
    keepOriginalSound: z.boolean({ error: "Keep-original-sound must be true or false." }).optional(),
  })
  .superRefine(
    (req, ctx) => {
      if (!isTaskType(req.type)) return;
      const kind = kindOf(req.type);
      const label = KIND_LABEL[kind];
      const problem = (path: string, message: string) =>
        ctx.addIssue({ code: "custom", path: [path], message });
      const has = (key: keyof GenerateRequest) => (req as Record<string, unknown>)[key] !== undefined;

      if (kind === "video-edit" && has("duration")) {
        problem(
          "duration",
          "Video edits have no duration to choose: Kling keeps the length of the source video.",
        );
      }
      if (kind === "image-to-video" && !has("image")) {
        problem("image", "Image-to-video needs a start image: give an http(s) link to it.");
      }
      if (kind !== "image-to-video" && has("image")) {
        problem(
          "image",
          `${label} does not take a start image: use an image-to-video model, or leave it out.`,
        );
      }
      if (kind !== "image-to-video" && has("endImage")) {
        problem("endImage", "An end image works only with image-to-video.");
      }
      if (kind === "video-edit" && !has("video")) {
        problem("video", "Video edit needs the video to edit: give an http(s) link to it.");
      }
      if (kind !== "video-edit" && kind !== "reference-to-video" && has("video")) {
        problem("video", `${label} does not take a video: videos go with video edit or reference-to-video.`);
      }
      if (kind === "reference-to-video" && !has("images")) {
        problem("images", `Reference-to-video needs 1 to ${MAX_REFERENCE_IMAGES} reference images.`);
      }
      if (kind !== "reference-to-video" && has("images")) {
        problem("images", "Reference images work only with reference-to-video.");
      }
      if (familyOf(req.type) !== "kling3") {
        if (has("sound")) problem("sound", "Sound can be chosen only with Kling 3.0 models (pro or std).");
        if (has("promptFidelity")) {
          problem("promptFidelity", "Prompt fidelity can be set only with Kling 3.0 models (pro or std).");
        }
      }
      if (kind !== "video-edit" && has("keepOriginalSound")) {
        problem("keepOriginalSound", "Keep-original-sound applies only to video edits.");
      }
    },
    { when: () => true },
  );

/** Validate anything into a `GenerateRequest`; throws `KlingRequestError` (INVALID_REQUEST) listing every problem. */
export function parseGenerateRequest(input: unknown): GenerateRequest {
  const parsed = generateRequestSchema.safeParse(input);
  if (parsed.success) return parsed.data as GenerateRequest;
  const problems = parsed.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") return `Unknown field(s): ${issue.keys.join(", ")}.`;
    if (issue.code === "invalid_type" && issue.path.length === 0) return "The request must be an object.";
    const field = issue.path.length === 1 ? issue.path[0] : undefined;
    const absent = (input as Record<PropertyKey, unknown>)[field as PropertyKey] === undefined;
    if (field === "prompt" && absent) return "The prompt is missing: describe the video you want.";
    if (field === "type" && absent) return "The task type is missing.";
    return issue.message;
  });
  throw KlingRequestError.invalid([...new Set(problems)]);
}
