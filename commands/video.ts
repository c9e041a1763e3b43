import { ApplicationCommandOptionType as T } from "discord.js";
import { ASPECT_RATIOS, LIMITS, MODEL_LABELS, MODELS, QUALITIES } from "../src/video/limits.js";
import { type ArgumentsOf, guildCommand, subcommand } from "./define.js";

/** String choices whose values keep their literal type, so handler arguments are typed by them. */
function choices<const V extends string>(values: readonly V[], label: (value: V) => string) {
  return values.map((value) => ({ name: label(value), value })) as readonly {
    readonly name: string;
    readonly value: V;
  }[];
}

const prompt = {
  type: T.String,
  name: "prompt",
  description: "What the video should show",
  required: true,
  min_length: 1,
  max_length: LIMITS.promptMaxLength,
} as const;

const model = {
  type: T.String,
  name: "model",
  description: "Model (default: Kling 3.0 Standard)",
  choices: choices(MODELS, (m) => MODEL_LABELS[m]),
} as const;

const quality = {
  type: T.String,
  name: "quality",
  description: "Quality of the Kling O3 model (default: std)",
  choices: choices(QUALITIES, (q) => (q === "pro" ? "Pro" : "Standard")),
} as const;

const duration = {
  type: T.Integer,
  name: "duration",
  description: `Length in seconds, ${LIMITS.durationMin}–${LIMITS.durationMax} (default ${LIMITS.durationDefault})`,
  min_value: LIMITS.durationMin,
  max_value: LIMITS.durationMax,
} as const;

const aspectRatio = {
  type: T.String,
  name: "aspect_ratio",
  description: "Frame shape (default 16:9)",
  choices: choices(ASPECT_RATIOS, (r) => r),
} as const;

const sound = {
  type: T.Boolean,
  name: "sound",
  description: "Generate native audio (Kling 3.0 models only; default on)",
} as const;

const negativePrompt = {
  type: T.String,
  name: "negative_prompt",
  description: "What the video should avoid",
  min_length: 1,
  max_length: LIMITS.negativePromptMaxLength,
} as const;

const promptFidelity = {
  type: T.Number,
  name: "prompt_fidelity",
  description: "How strictly to follow the prompt, 0–1 (Kling 3.0 models only; default 0.5)",
  min_value: 0,
  max_value: 1,
} as const;

const url = <const N extends string>(name: N, description: string) =>
  ({ type: T.String, name, description, min_length: 8, max_length: LIMITS.urlMaxLength }) as const;

const attachment = <const N extends string>(name: N, description: string) =>
  ({ type: T.Attachment, name, description }) as const;

export const VideoText = subcommand({
  name: "text",
  description: "Make a video from a text prompt",
  options: [prompt, model, duration, aspectRatio, sound, negativePrompt, promptFidelity],
});

export const VideoImage = subcommand({
  name: "image",
  description: "Animate a still image",
  options: [
    prompt,
    attachment("image", "Start image (PNG, JPEG or WebP)"),
    url("image_url", "Start image as an https link (instead of an attachment)"),
    attachment("end_image", "Last frame (PNG, JPEG or WebP)"),
    url("end_image_url", "Last frame as an https link (instead of an attachment)"),
    model,
    duration,
    aspectRatio,
    sound,
    negativePrompt,
    promptFidelity,
  ],
});

export const VideoReference = subcommand({
  name: "reference",
  description: "Make a video that follows reference images (Kling O3)",
  options: [
    prompt,
    { ...attachment("image1", "Reference image (PNG, JPEG or WebP)"), required: true },
    attachment("image2", "Reference image"),
    attachment("image3", "Reference image"),
    attachment("image4", "Reference image"),
    attachment("image5", "Reference image"),
    attachment("image6", "Reference image"),
    attachment("image7", "Reference image"),
    attachment("video", "Reference video (MP4 or MOV)"),
    quality,
    duration,
    aspectRatio,
  ],
});

export const VideoEdit = subcommand({
  name: "edit",
  description: "Change an existing video with a prompt (Kling O3)",
  options: [
    prompt,
    attachment("video", "Video to edit (MP4 or MOV)"),
    url("video_url", "Video to edit as an https link (instead of an attachment)"),
    quality,
    { type: T.Boolean, name: "keep_original_sound", description: "Keep the video's own audio (default on)" },
  ],
});

export const VideoStatus = subcommand({
  name: "status",
  description: "Show where one of your videos is",
  options: [
    {
      type: T.Integer,
      name: "job",
      description: "Job number",
      required: true,
      min_value: 1,
      autocomplete: true,
    },
  ],
});

export const VideoHistory = subcommand({
  name: "history",
  description: "Your recent videos in this server",
  options: [],
});

export const VideoCommand = guildCommand({
  name: "video",
  description: "Make short video clips with Kling",
  options: [VideoText, VideoImage, VideoReference, VideoEdit, VideoStatus, VideoHistory],
});

export type VideoTextArgs = ArgumentsOf<typeof VideoText>;
export type VideoImageArgs = ArgumentsOf<typeof VideoImage>;
export type VideoReferenceArgs = ArgumentsOf<typeof VideoReference>;
export type VideoEditArgs = ArgumentsOf<typeof VideoEdit>;
export type VideoStatusArgs = ArgumentsOf<typeof VideoStatus>;
