import { z } from "zod";
import type { AttachmentInfo } from "../../commands/define.js";
import type {
  VideoEditArgs,
  VideoImageArgs,
  VideoReferenceArgs,
  VideoTextArgs,
} from "../../commands/video.js";
import type { GenerateRequest } from "../kling/types.js";
import { DEFAULTS, taskTypeFor } from "../kling/types.js";
import {
  ASPECT_RATIOS,
  type AspectRatio,
  DEFAULT_MODEL,
  LIMITS,
  MODELS,
  type Model,
  QUALITIES,
} from "./limits.js";

/**
 * One zod schema per subcommand turns Discord's raw options into a typed request for the API.
 * Discord already enforced lengths, ranges and choices (see commands/video.ts); these carry the
 * cross-field rules. Every problem is reported at once, in words that say what to change.
 */

export interface VideoRequest {
  generate: GenerateRequest;
  /** What the replies show. */
  display: {
    subcommand: "text" | "image" | "reference" | "edit";
    model: string;
    prompt: string;
    duration: number | undefined;
    aspectRatio: AspectRatio | undefined;
    sound: boolean | undefined;
  };
}

export type Validation = { ok: true; value: VideoRequest } | { ok: false; problems: string[] };

export interface ValidationContext {
  /** The server's default model (a server setting later; `std` now). */
  defaultModel?: Model;
}

const KLING3_MODELS: readonly Model[] = ["pro", "std"];

const httpsUrl = (option: string) =>
  z
    .string()
    .trim()
    .max(LIMITS.urlMaxLength, `\`${option}\` is too long (at most ${LIMITS.urlMaxLength} characters).`)
    .refine((v) => {
      try {
        const u = new URL(v);
        return u.protocol === "https:" && u.hostname.length > 0;
      } catch {
        return false;
      }
    }, `\`${option}\` must be an https:// link to the file.`);

const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;

const mediaAttachment = (option: string, media: "image" | "video") => {
  const types: readonly string[] = media === "image" ? LIMITS.imageContentTypes : LIMITS.videoContentTypes;
  const max = media === "image" ? LIMITS.imageMaxBytes : LIMITS.videoMaxBytes;
  const label = media === "image" ? "a PNG, JPEG or WebP image" : "an MP4 or MOV video";
  return z.custom<AttachmentInfo>().superRefine((a, ctx) => {
    const type = (a.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!types.includes(type)) {
      ctx.addIssue({
        code: "custom",
        message: `\`${option}\` must be ${label}; \`${a.name}\` is ${type || "of unknown type"}.`,
      });
    }
    if (a.size > max) {
      ctx.addIssue({
        code: "custom",
        message: `\`${option}\` is ${mb(a.size)}; the limit is ${mb(max)}.`,
      });
    }
  });
};

/** Exactly one of an attachment and a link, where a subcommand offers both. */
function oneSource(
  ctx: z.RefinementCtx,
  attachment: AttachmentInfo | undefined,
  url: string | undefined,
  names: [string, string],
  required: boolean,
): string | undefined {
  if (attachment && url) {
    ctx.addIssue({ code: "custom", message: `Give either \`${names[0]}\` or \`${names[1]}\`, not both.` });
    return undefined;
  }
  if (!attachment && !url && required) {
    ctx.addIssue({ code: "custom", message: `Attach \`${names[0]}\` or give \`${names[1]}\`.` });
    return undefined;
  }
  return attachment?.url ?? url;
}

function kling3Only(ctx: z.RefinementCtx, model: Model, given: Record<string, unknown>): void {
  if (KLING3_MODELS.includes(model)) return;
  const names = Object.entries(given)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => `\`${k}\``);
  if (names.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `${names.join(" and ")} ${names.length > 1 ? "apply" : "applies"} only to Kling 3.0 models (\`pro\`, \`std\`): remove ${names.length > 1 ? "them" : "it"} or pick one of those models.`,
    });
  }
}

const promptSchema = z
  .string()
  .trim()
  .min(1, "`prompt` is empty: describe what the video should show.")
  .max(LIMITS.promptMaxLength, `\`prompt\` is too long (at most ${LIMITS.promptMaxLength} characters).`);

const negativeSchema = z
  .string()
  .trim()
  .min(1, "`negative_prompt` is empty: leave it out or say what to avoid.")
  .max(LIMITS.negativePromptMaxLength)
  .optional();

const durationSchema = z
  .number()
  .int(`\`duration\` must be a whole number of seconds.`)
  .min(LIMITS.durationMin, `\`duration\` must be ${LIMITS.durationMin}–${LIMITS.durationMax} seconds.`)
  .max(LIMITS.durationMax, `\`duration\` must be ${LIMITS.durationMin}–${LIMITS.durationMax} seconds.`)
  .optional()
  .transform((v) => v ?? LIMITS.durationDefault);

const fidelitySchema = z
  .number()
  .min(0, "`prompt_fidelity` must be 0–1.")
  .max(1, "`prompt_fidelity` must be 0–1.");

/** Options `/video text` and `/video image` share. */
const generationFields = {
  prompt: promptSchema,
  model: z.enum(MODELS).optional(),
  duration: durationSchema,
  aspect_ratio: z.enum(ASPECT_RATIOS).optional(),
  sound: z.boolean().optional(),
  negative_prompt: negativeSchema,
  prompt_fidelity: fidelitySchema.optional(),
};

type GenerationFields = z.output<z.ZodObject<typeof generationFields>>;

/**
 * The model-dependent part of a text or image request: the task type, and sound and prompt fidelity only
 * on Kling 3.0 (refused, by name, on O3).
 */
function generation(
  a: GenerationFields,
  kind: "text-to-video" | "image-to-video",
  defaultModel: Model,
  ctx: z.RefinementCtx,
) {
  const model = a.model ?? defaultModel;
  kling3Only(ctx, model, { sound: a.sound, prompt_fidelity: a.prompt_fidelity });
  const type = taskTypeFor(kind, model);
  const kling3 = KLING3_MODELS.includes(model);
  const aspectRatio = a.aspect_ratio ?? DEFAULTS.aspectRatio;
  const sound = kling3 ? (a.sound ?? DEFAULTS.sound) : undefined;
  return {
    type,
    display: { model, prompt: a.prompt, duration: a.duration, aspectRatio, sound },
    fields: {
      prompt: a.prompt,
      duration: a.duration,
      aspectRatio,
      sound,
      negativePrompt: a.negative_prompt,
      promptFidelity: kling3 ? a.prompt_fidelity : undefined,
    },
  };
}

function textSchema(defaultModel: Model) {
  return z.object(generationFields).transform((a, ctx) => {
    const g = generation(a, "text-to-video", defaultModel, ctx);
    if (!g.type) return z.NEVER;
    return {
      generate: { type: g.type, ...g.fields },
      display: { subcommand: "text", ...g.display },
    } satisfies VideoRequest;
  });
}

function imageSchema(defaultModel: Model) {
  return z
    .object({
      ...generationFields,
      image: mediaAttachment("image", "image").optional(),
      image_url: httpsUrl("image_url").optional(),
      end_image: mediaAttachment("end_image", "image").optional(),
      end_image_url: httpsUrl("end_image_url").optional(),
    })
    .transform((a, ctx) => {
      const g = generation(a, "image-to-video", defaultModel, ctx);
      const image = oneSource(ctx, a.image, a.image_url, ["image", "image_url"], true);
      const endImage = oneSource(ctx, a.end_image, a.end_image_url, ["end_image", "end_image_url"], false);
      if (!g.type || !image) return z.NEVER;
      return {
        generate: { type: g.type, ...g.fields, image, endImage },
        display: { subcommand: "image", ...g.display },
      } satisfies VideoRequest;
    });
}

const referenceSchema = z
  .object({
    prompt: promptSchema,
    image1: mediaAttachment("image1", "image").optional(),
    image2: mediaAttachment("image2", "image").optional(),
    image3: mediaAttachment("image3", "image").optional(),
    image4: mediaAttachment("image4", "image").optional(),
    image5: mediaAttachment("image5", "image").optional(),
    image6: mediaAttachment("image6", "image").optional(),
    image7: mediaAttachment("image7", "image").optional(),
    video: mediaAttachment("video", "video").optional(),
    quality: z.enum(QUALITIES).optional(),
    duration: durationSchema,
    aspect_ratio: z.enum(ASPECT_RATIOS).optional(),
  })
  .transform((a, ctx) => {
    const images = [a.image1, a.image2, a.image3, a.image4, a.image5, a.image6, a.image7]
      .filter((i): i is AttachmentInfo => i !== undefined)
      .map((i) => i.url);
    if (images.length === 0) {
      ctx.addIssue({ code: "custom", message: "Attach at least one reference image (`image1`)." });
      return z.NEVER;
    }
    const model: Model = a.quality === "pro" ? "o3-pro" : "o3-std";
    const type = taskTypeFor("reference-to-video", model);
    if (!type) return z.NEVER;
    const aspectRatio = a.aspect_ratio ?? DEFAULTS.aspectRatio;
    return {
      generate: { type, prompt: a.prompt, duration: a.duration, aspectRatio, images, video: a.video?.url },
      display: {
        subcommand: "reference",
        model,
        prompt: a.prompt,
        duration: a.duration,
        aspectRatio,
        sound: undefined,
      },
    } satisfies VideoRequest;
  });

const editSchema = z
  .object({
    prompt: promptSchema,
    video: mediaAttachment("video", "video").optional(),
    video_url: httpsUrl("video_url").optional(),
    quality: z.enum(QUALITIES).optional(),
    keep_original_sound: z.boolean().optional(),
  })
  .transform((a, ctx) => {
    const video = oneSource(ctx, a.video, a.video_url, ["video", "video_url"], true);
    const model: Model = a.quality === "pro" ? "o3-pro" : "o3-std";
    const type = taskTypeFor("video-edit", model);
    if (!type || !video) return z.NEVER;
    return {
      generate: { type, prompt: a.prompt, video, keepOriginalSound: a.keep_original_sound ?? true },
      display: {
        subcommand: "edit",
        model,
        prompt: a.prompt,
        duration: undefined,
        aspectRatio: undefined,
        sound: undefined,
      },
    } satisfies VideoRequest;
  });

/**
 * zod runs an object's cross-field rules only when every field passed; these run them on the raw options
 * too, so that a refusal lists every problem at once.
 */
function collect(run: (ctx: z.RefinementCtx) => void): string[] {
  const out: string[] = [];
  const ctx = { addIssue: (issue: { message?: string }) => issue.message && out.push(issue.message) };
  run(ctx as unknown as z.RefinementCtx);
  return out;
}

function toValidation(
  result: z.ZodSafeParseResult<VideoRequest>,
  crossField: () => string[] = () => [],
): Validation {
  if (result.success) return { ok: true, value: result.data };
  const problems = [...new Set([...result.error.issues.map((i) => i.message), ...crossField()])];
  return { ok: false, problems };
}

export function validateText(args: VideoTextArgs, ctx: ValidationContext = {}): Validation {
  const model = ctx.defaultModel ?? DEFAULT_MODEL;
  return toValidation(textSchema(model).safeParse(args), () =>
    collect((c) =>
      kling3Only(c, args.model ?? model, { sound: args.sound, prompt_fidelity: args.prompt_fidelity }),
    ),
  );
}

export function validateImage(args: VideoImageArgs, ctx: ValidationContext = {}): Validation {
  const model = ctx.defaultModel ?? DEFAULT_MODEL;
  return toValidation(imageSchema(model).safeParse(args), () =>
    collect((c) => {
      kling3Only(c, args.model ?? model, { sound: args.sound, prompt_fidelity: args.prompt_fidelity });
      oneSource(c, args.image, args.image_url, ["image", "image_url"], true);
      oneSource(c, args.end_image, args.end_image_url, ["end_image", "end_image_url"], false);
    }),
  );
}

export function validateReference(args: VideoReferenceArgs): Validation {
  return toValidation(referenceSchema.safeParse(args));
}

export function validateEdit(args: VideoEditArgs): Validation {
  return toValidation(editSchema.safeParse(args), () =>
    collect((c) => oneSource(c, args.video, args.video_url, ["video", "video_url"], true)),
  );
}
