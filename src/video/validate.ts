import { z } from "zod";
import type { AttachmentInfo } from "../../commands/define.js";
import type {
  VideoEditArgs,
  VideoImageArgs,
  VideoReferenceArgs,
  VideoStatusArgs,
  VideoTextArgs,
} from "../../commands/video.js";
import { type Message, message } from "../i18n/index.js";
import type { GenerateRequest } from "../kling/types.js";
import { DEFAULTS, taskTypeFor } from "../kling/types.js";
import { hostProblem } from "../net/address.js";
import {
  ASPECT_RATIOS,
  type AspectRatio,
  DEFAULT_MODEL,
  LIMITS,
  MODELS,
  type Model,
  QUALITIES,
} from "./limits.js";
import { say } from "./messages.js";
import { freeTextProblems, unstorableProblems } from "./text.js";

/**
 * One zod schema per subcommand turns Discord's raw options into a typed request for the API.
 * Discord already enforced types, lengths, ranges and choices (see commands/video.ts), but a stale command
 * registration or a forged payload can send anything: every field refuses a wrong type or value by name.
 * The schemas also carry the cross-field rules. Every problem is reported at once, as a message that says
 * what to change (messages.ts), for the reply to render in the member's language.
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

export type Validation = { ok: true; value: VideoRequest } | { ok: false; problems: Message[] };

export interface ValidationContext {
  /** The server's default model (`/budget config default_model`); `std` when it chose none. */
  defaultModel?: Model;
  /** Sound when the member does not say (off in a server that does not allow sound). */
  defaultSound?: boolean;
}

const KLING3_MODELS: readonly Model[] = ["pro", "std"];

/** zod carries a problem as a string: the message as JSON, read back by `problemsOf`. */
const asIssue = (message: Message): string => JSON.stringify(message);

const issues = (ctx: z.RefinementCtx, messages: readonly Message[]) => {
  for (const message of messages) ctx.addIssue({ code: "custom", message: asIssue(message) });
};

/** A problem zod reported; one without a message of ours (a rule that forgot it) still names its option. */
function readIssue(text: string, path: readonly PropertyKey[] = []): Message {
  if (text.startsWith('{"key":')) {
    try {
      return JSON.parse(text) as Message;
    } catch {
      // not one of ours after all
    }
  }
  return say.unexpected(typeof path[0] === "string" ? path[0] : undefined);
}

/** Each problem once, in the order found. */
function problemsOf(issues: readonly { message: string; path?: readonly PropertyKey[] }[]): Message[] {
  const seen = new Set<string>();
  const out: Message[] = [];
  for (const issue of issues) {
    const message = readIssue(issue.message, issue.path);
    const id = JSON.stringify(message);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(message);
  }
  return out;
}

/**
 * The text as an https link, or `undefined`. WHATWG parsing also reads `https:///a.png` (host `a.png`),
 * `https:\\host` and `https:host` as links; other parsers do not, so only the plain form counts.
 */
function httpsLink(text: string): URL | undefined {
  if (!/^https:\/\/[^/\\]/i.test(text)) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** An https link to a public host. The parsed form is what goes on, so the API cannot read it otherwise. */
const httpsUrl = (option: string) =>
  z
    .string({ error: asIssue(say.wrongType(option, "text")) })
    .trim()
    .transform((v, ctx) => {
      const text = unstorableProblems(option, v);
      if (v.length > LIMITS.urlMaxLength) text.push(say.tooLong(option, LIMITS.urlMaxLength));
      if (text.length > 0) {
        issues(ctx, text);
        return z.NEVER;
      }
      const url = httpsLink(v);
      if (!url) {
        issues(ctx, [say.notHttps(option)]);
        return z.NEVER;
      }
      const host = hostProblem(url);
      if (host) {
        issues(ctx, [host === "credentials" ? say.linkCredentials(option) : say.linkNotPublic(option)]);
        return z.NEVER;
      }
      return url.href;
    });

function isAttachment(a: unknown): a is AttachmentInfo {
  if (typeof a !== "object" || a === null) return false;
  const r = a as Record<string, unknown>;
  return (
    typeof r.id === "string" &&
    typeof r.name === "string" &&
    typeof r.url === "string" &&
    typeof r.size === "number" &&
    (typeof r.contentType === "string" || r.contentType === null)
  );
}

/**
 * Discord serves attachments over https from its public CDN, with plain URLs; anything else did not come from
 * Discord (and a control character would also fail the insert of the request).
 */
function isAttachmentUrl(text: string): boolean {
  if (/[\p{Cc}\p{Cs}]/u.test(text)) return false;
  const url = httpsLink(text);
  return url !== undefined && hostProblem(url) === undefined;
}

const mediaAttachment = (option: string, media: "image" | "video") => {
  const types: readonly string[] = media === "image" ? LIMITS.imageContentTypes : LIMITS.videoContentTypes;
  const max = media === "image" ? LIMITS.imageMaxBytes : LIMITS.videoMaxBytes;
  return z
    .custom<AttachmentInfo>(isAttachment, { error: asIssue(say.notAttached(option)) })
    .superRefine((a, ctx) => {
      if (!isAttachmentUrl(a.url)) {
        issues(ctx, [say.notAttached(option)]);
        return;
      }
      const type = (a.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
      if (!types.includes(type)) issues(ctx, [say.mediaType(option, media, a.name, type)]);
      if (a.size > max) issues(ctx, [say.mediaSize(option, a.size, max)]);
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
    issues(ctx, [say.both(...names)]);
    return undefined;
  }
  if (!attachment && !url && required) {
    issues(ctx, [say.neither(...names)]);
    return undefined;
  }
  return attachment?.url ?? url;
}

function kling3Only(ctx: z.RefinementCtx, model: Model, given: Record<string, unknown>): void {
  if (KLING3_MODELS.includes(model)) return;
  const names = Object.entries(given)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  if (names.length > 0) issues(ctx, [say.kling3Only(names)]);
}

/** The model a request asks for, or `undefined` when what it gives is not a model (refused by the schema). */
function requestedModel(given: unknown, fallback: Model): Model | undefined {
  if (given === undefined) return fallback;
  return (MODELS as readonly unknown[]).includes(given) ? (given as Model) : undefined;
}

/** Free text: a missing required one reads as empty, a value of another type is refused by name. */
const freeText = (option: string, maxLength: number) =>
  z
    .string({
      error: (i) => asIssue(i.input === undefined ? say.empty(option) : say.wrongType(option, "text")),
    })
    .trim()
    .superRefine((v, ctx) => issues(ctx, freeTextProblems(option, v, maxLength)));

const promptSchema = freeText("prompt", LIMITS.promptMaxLength);

const negativeSchema = freeText("negative_prompt", LIMITS.negativePromptMaxLength).optional();

const choice = <const T extends readonly [string, ...string[]]>(option: string, values: T) =>
  z.enum(values, { error: asIssue(say.notChoice(option, values)) });

const flag = (option: string) => z.boolean({ error: asIssue(say.wrongType(option, "boolean")) });

const durationRange = asIssue(say.durationRange("duration", LIMITS.durationMin, LIMITS.durationMax));
const durationWhole = asIssue(say.durationWhole("duration"));
const durationSchema = z
  .number({ error: durationWhole })
  .int(durationWhole)
  .min(LIMITS.durationMin, durationRange)
  .max(LIMITS.durationMax, durationRange)
  .optional()
  .transform((v) => v ?? LIMITS.durationDefault);

const fidelityRange = asIssue(say.fidelityRange("prompt_fidelity"));
const fidelitySchema = z.number({ error: fidelityRange }).min(0, fidelityRange).max(1, fidelityRange);

/** Options `/video text` and `/video image` share. */
const generationFields = {
  prompt: promptSchema,
  model: choice("model", MODELS).optional(),
  duration: durationSchema,
  aspect_ratio: choice("aspect_ratio", ASPECT_RATIOS).optional(),
  sound: flag("sound").optional(),
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
  defaults: Defaults,
  ctx: z.RefinementCtx,
) {
  const model = a.model ?? defaults.model;
  kling3Only(ctx, model, { sound: a.sound, prompt_fidelity: a.prompt_fidelity });
  const type = taskTypeFor(kind, model);
  const kling3 = KLING3_MODELS.includes(model);
  const aspectRatio = a.aspect_ratio ?? DEFAULTS.aspectRatio;
  const sound = kling3 ? (a.sound ?? defaults.sound) : undefined;
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

/** What a request gets when the member leaves an option out: the server's choices, else the API's. */
interface Defaults {
  model: Model;
  sound: boolean;
}

function defaultsOf(ctx: ValidationContext): Defaults {
  return { model: ctx.defaultModel ?? DEFAULT_MODEL, sound: ctx.defaultSound ?? DEFAULTS.sound };
}

/**
 * The text and image schemas depend on the server's defaults, of which there are few (a model and a sound
 * flag): each is built once per combination and kept, instead of on every command (building and compiling a
 * zod object schema costs far more than running it).
 */
function perDefaults<T>(build: (defaults: Defaults) => T): (defaults: Defaults) => T {
  const built = new Map<string, T>();
  return (defaults) => {
    const key = `${defaults.model}:${defaults.sound}`;
    let schema = built.get(key);
    if (!schema) {
      schema = build(defaults);
      built.set(key, schema);
    }
    return schema;
  };
}

const textSchema = perDefaults((defaults) =>
  z.object(generationFields).transform((a, ctx) => {
    const g = generation(a, "text-to-video", defaults, ctx);
    if (!g.type) return z.NEVER;
    return {
      generate: { type: g.type, ...g.fields },
      display: { subcommand: "text", ...g.display },
    } satisfies VideoRequest;
  }),
);

const imageSchema = perDefaults((defaults) =>
  z
    .object({
      ...generationFields,
      image: mediaAttachment("image", "image").optional(),
      image_url: httpsUrl("image_url").optional(),
      end_image: mediaAttachment("end_image", "image").optional(),
      end_image_url: httpsUrl("end_image_url").optional(),
    })
    .transform((a, ctx) => {
      const g = generation(a, "image-to-video", defaults, ctx);
      const image = oneSource(ctx, a.image, a.image_url, ["image", "image_url"], true);
      const endImage = oneSource(ctx, a.end_image, a.end_image_url, ["end_image", "end_image_url"], false);
      if (!g.type || !image) return z.NEVER;
      return {
        generate: { type: g.type, ...g.fields, image, endImage },
        display: { subcommand: "image", ...g.display },
      } satisfies VideoRequest;
    }),
);

/** Options `/video reference` shares with "Use as reference" on a delivered clip. */
const referenceFields = {
  prompt: promptSchema,
  quality: choice("quality", QUALITIES).optional(),
  duration: durationSchema,
  aspect_ratio: choice("aspect_ratio", ASPECT_RATIOS).optional(),
};

/** An O3 reference-to-video request following `images` (and `video`, when given). */
function referenceOf(
  a: z.output<z.ZodObject<typeof referenceFields>>,
  images: string[],
  video: string | undefined,
): VideoRequest | undefined {
  const model: Model = a.quality === "pro" ? "o3-pro" : "o3-std";
  const type = taskTypeFor("reference-to-video", model);
  if (!type) return undefined;
  const aspectRatio = a.aspect_ratio ?? DEFAULTS.aspectRatio;
  return {
    generate: { type, prompt: a.prompt, duration: a.duration, aspectRatio, images, video },
    display: {
      subcommand: "reference",
      model,
      prompt: a.prompt,
      duration: a.duration,
      aspectRatio,
      sound: undefined,
    },
  };
}

const referenceSchema = z
  .object({
    ...referenceFields,
    image1: mediaAttachment("image1", "image").optional(),
    image2: mediaAttachment("image2", "image").optional(),
    image3: mediaAttachment("image3", "image").optional(),
    image4: mediaAttachment("image4", "image").optional(),
    image5: mediaAttachment("image5", "image").optional(),
    image6: mediaAttachment("image6", "image").optional(),
    image7: mediaAttachment("image7", "image").optional(),
    video: mediaAttachment("video", "video").optional(),
  })
  .transform((a, ctx) => {
    const images = [a.image1, a.image2, a.image3, a.image4, a.image5, a.image6, a.image7]
      .filter((i): i is AttachmentInfo => i !== undefined)
      .map((i) => i.url);
    if (images.length === 0) {
      issues(ctx, [say.referenceImageMissing("image1")]);
      return z.NEVER;
    }
    return referenceOf(a, images, a.video?.url) ?? z.NEVER;
  });

/** Options `/video edit` shares with "Edit" on a delivered clip. */
const editFields = {
  prompt: promptSchema,
  quality: choice("quality", QUALITIES).optional(),
  keep_original_sound: flag("keep_original_sound").optional(),
};

/** An O3 edit of `video`. */
function editOf(a: z.output<z.ZodObject<typeof editFields>>, video: string): VideoRequest | undefined {
  const model: Model = a.quality === "pro" ? "o3-pro" : "o3-std";
  const type = taskTypeFor("video-edit", model);
  if (!type) return undefined;
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
  };
}

const editSchema = z
  .object({
    ...editFields,
    video: mediaAttachment("video", "video").optional(),
    video_url: httpsUrl("video_url").optional(),
  })
  .transform((a, ctx) => {
    const video = oneSource(ctx, a.video, a.video_url, ["video", "video_url"], true);
    return (video && editOf(a, video)) || z.NEVER;
  });

/**
 * zod runs an object's cross-field rules only when every field passed; these run them on the raw options
 * too, so that a refusal lists every problem at once.
 */
function collect(run: (ctx: z.RefinementCtx) => void): { message: string }[] {
  const out: { message: string }[] = [];
  const ctx = {
    addIssue: (issue: { message?: string }) => issue.message && out.push({ message: issue.message }),
  };
  run(ctx as unknown as z.RefinementCtx);
  return out;
}

function toValidation(
  result: z.ZodSafeParseResult<VideoRequest>,
  crossField: () => { message: string }[] = () => [],
): Validation {
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: problemsOf([...result.error.issues, ...crossField()]) };
}

export function validateText(args: VideoTextArgs, ctx: ValidationContext = {}): Validation {
  const defaults = defaultsOf(ctx);
  const model = defaults.model;
  return toValidation(textSchema(defaults).safeParse(args), () =>
    collect((c) => {
      const chosen = requestedModel(args.model, model);
      if (chosen) kling3Only(c, chosen, { sound: args.sound, prompt_fidelity: args.prompt_fidelity });
    }),
  );
}

export function validateImage(args: VideoImageArgs, ctx: ValidationContext = {}): Validation {
  const defaults = defaultsOf(ctx);
  const model = defaults.model;
  return toValidation(imageSchema(defaults).safeParse(args), () =>
    collect((c) => {
      const chosen = requestedModel(args.model, model);
      if (chosen) kling3Only(c, chosen, { sound: args.sound, prompt_fidelity: args.prompt_fidelity });
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

/*
 * Follow-ups of a clip the bot delivered (its buttons) and "Animate with Kling" on a message. What the member
 * types into a modal goes through the schemas of the `/video` options of the same name, so a bad value gets
 * the same message. A clip's media are links the bot holds itself (the clip's link from the API, a frame the
 * bot posted on Discord), not a member's: they are not checked as a member's links are.
 */

/**
 * A number typed into a modal: the number when the text reads as one (full-width digits too), else the text,
 * for the schema to refuse by name; empty: not given.
 */
function typedNumber(text: string): number | string | undefined {
  const value = text.normalize("NFKC").trim();
  if (value === "") return undefined;
  return /^[+-]?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

/**
 * A form has no list to pick a choice from: a value that is not one of them is refused with the words for
 * typing one.
 */
function typed(validation: Validation): Validation {
  if (validation.ok) return validation;
  return {
    ok: false,
    problems: validation.problems.map((p) =>
      p.key === "validation.notChoice" ? message("validation.notChoiceTyped", p.params) : p,
    ),
  };
}

/** A choice typed into a modal, as its value (`PRO` and `ｐｒｏ` read as `pro`); empty: not given. */
function typedChoice(text: string): string | undefined {
  const value = text.normalize("NFKC").trim().toLowerCase();
  return value === "" ? undefined : value;
}

/** What a delivered clip was, as its stored request says. */
export interface ClipShape {
  model: string;
  duration: number | undefined;
  aspectRatio: AspectRatio | undefined;
  sound: boolean | undefined;
}

const clipEditSchema = (video: string) => z.object(editFields).transform((a) => editOf(a, video) ?? z.NEVER);

/** "Edit": an O3 edit of the clip, in the quality typed (`pro` or `std`). */
export function validateClipEdit(fields: { prompt: string; quality: string }, video: string): Validation {
  return typed(
    toValidation(
      clipEditSchema(video).safeParse({ prompt: fields.prompt, quality: typedChoice(fields.quality) }),
    ),
  );
}

const clipReferenceSchema = (media: { video: string; frame: string }) =>
  z.object(referenceFields).transform((a) => referenceOf(a, [media.frame], media.video) ?? z.NEVER);

/**
 * "Use as reference": an O3 reference-to-video following the clip, with its last frame as the reference image
 * (the API needs at least one), of the clip's duration and aspect ratio, in `/video reference`'s default
 * quality.
 */
export function validateClipReference(
  fields: { prompt: string },
  media: { video: string; frame: string },
  clip: ClipShape,
): Validation {
  return toValidation(
    clipReferenceSchema(media).safeParse({
      prompt: fields.prompt,
      duration: clip.duration,
      aspect_ratio: clip.aspectRatio,
    }),
  );
}

/** `/video image`'s options, none given. */
const NO_IMAGE_OPTIONS: { [K in keyof VideoImageArgs]: undefined } = {
  prompt: undefined,
  image: undefined,
  image_url: undefined,
  end_image: undefined,
  end_image_url: undefined,
  model: undefined,
  duration: undefined,
  aspect_ratio: undefined,
  sound: undefined,
  negative_prompt: undefined,
  prompt_fidelity: undefined,
};

/**
 * "Continue": an image-to-video from the clip's last frame, of the clip's model, duration and aspect ratio,
 * with its sound where the server still allows sound.
 */
export function validateClipContinue(
  fields: { prompt: string },
  frame: string,
  clip: ClipShape,
  ctx: ValidationContext = {},
): Validation {
  // Raw values, as options would carry them: the schema refuses what does not fit, by name.
  const args = {
    ...NO_IMAGE_OPTIONS,
    prompt: fields.prompt,
    image_url: frame,
    model: clip.model,
    duration: clip.duration,
    aspect_ratio: clip.aspectRatio,
    sound: ctx.defaultSound === false ? undefined : clip.sound,
  } as VideoImageArgs;
  return validateImage(args, ctx);
}

/**
 * "Animate with Kling": an image-to-video from a message's image (its attachment, checked like `image`, or
 * the link of its image embed, checked like `image_url`), with the prompt, duration and model typed.
 */
export function validateAnimate(
  fields: { prompt: string; duration: string; model: string },
  image: { image?: AttachmentInfo; image_url?: string },
  ctx: ValidationContext = {},
): Validation {
  const args = {
    ...NO_IMAGE_OPTIONS,
    ...image,
    prompt: fields.prompt,
    duration: typedNumber(fields.duration),
    model: typedChoice(fields.model),
  } as VideoImageArgs;
  return typed(validateImage(args, ctx));
}

const jobNumber = asIssue(say.jobNumber("job"));
const jobSchema = z
  .number({ error: jobNumber })
  .int(jobNumber)
  .min(1, jobNumber)
  .max(Number.MAX_SAFE_INTEGER, jobNumber);

/** `/video status`: the job number to look up. */
export function validateStatus(
  args: VideoStatusArgs,
): { ok: true; value: number } | { ok: false; problems: Message[] } {
  const result = jobSchema.safeParse(args.job);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: problemsOf(result.error.issues) };
}
