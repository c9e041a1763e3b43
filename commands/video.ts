import { ApplicationCommandOptionType as T } from "discord.js";
import { ja } from "../src/i18n/ja.js";
import { ASPECT_RATIOS, LIMITS, MODEL_LABELS, MODELS, QUALITIES } from "../src/video/limits.js";
import { type ArgumentsOf, type Choice, guildCommand, subcommand } from "./define.js";

/**
 * String choices whose values keep their literal type, so handler arguments are typed by them. Each choice
 * gets its Japanese name too; the value is what the handler receives, whatever the member's language.
 */
function choices<const V extends string>(
  values: readonly V[],
  label: (value: V) => string,
  japanese: (value: V) => string,
) {
  return values.map((value) => ({
    name: label(value),
    name_localizations: { ja: japanese(value) },
    value,
  })) as readonly Choice<V>[];
}

const ASPECT_RATIO_JA: Readonly<Record<(typeof ASPECT_RATIOS)[number], string>> = {
  "16:9": "16:9（横長）",
  "9:16": "9:16（縦長）",
  "1:1": "1:1（正方形）",
};

const prompt = {
  type: T.String,
  name: "prompt",
  description: "What the video should show",
  description_localizations: { ja: "動画に映したい内容" },
  required: true,
  min_length: 1,
  max_length: LIMITS.promptMaxLength,
} as const;

const model = {
  type: T.String,
  name: "model",
  description: "Model (default: Kling 3.0 Standard)",
  description_localizations: { ja: "モデル（既定：Kling 3.0 Standard）" },
  choices: choices(
    MODELS,
    (m) => MODEL_LABELS[m],
    (m) => ja[`model.${m}`],
  ),
} as const;

const quality = {
  type: T.String,
  name: "quality",
  description: "Quality of the Kling O3 model (default: std)",
  description_localizations: { ja: "Kling O3 モデルの品質（既定：Standard）" },
  choices: choices(
    QUALITIES,
    (q) => (q === "pro" ? "Pro" : "Standard"),
    (q) => ja[`model.quality.${q}`],
  ),
} as const;

const duration = {
  type: T.Integer,
  name: "duration",
  description: `Length in seconds, ${LIMITS.durationMin}–${LIMITS.durationMax} (default ${LIMITS.durationDefault})`,
  description_localizations: {
    ja: `長さ（秒）、${LIMITS.durationMin}〜${LIMITS.durationMax}（既定 ${LIMITS.durationDefault}）`,
  },
  min_value: LIMITS.durationMin,
  max_value: LIMITS.durationMax,
} as const;

const aspectRatio = {
  type: T.String,
  name: "aspect_ratio",
  description: "Frame shape (default 16:9)",
  description_localizations: { ja: "画面の縦横比（既定 16:9）" },
  choices: choices(
    ASPECT_RATIOS,
    (r) => r,
    (r) => ASPECT_RATIO_JA[r],
  ),
} as const;

const sound = {
  type: T.Boolean,
  name: "sound",
  description: "Generate native audio (Kling 3.0 models only; default on)",
  description_localizations: { ja: "音声も生成します（Kling 3.0 のモデルのみ、既定はオン）" },
} as const;

const negativePrompt = {
  type: T.String,
  name: "negative_prompt",
  description: "What the video should avoid",
  description_localizations: { ja: "動画で避けたい内容" },
  min_length: 1,
  max_length: LIMITS.negativePromptMaxLength,
} as const;

const promptFidelity = {
  type: T.Number,
  name: "prompt_fidelity",
  description: "How strictly to follow the prompt, 0–1 (Kling 3.0 models only; default 0.5)",
  description_localizations: { ja: "プロンプトに従う強さ、0〜1（Kling 3.0 のモデルのみ、既定 0.5）" },
  min_value: 0,
  max_value: 1,
} as const;

const url = <const N extends string>(name: N, description: string, japanese: string) =>
  ({
    type: T.String,
    name,
    description,
    description_localizations: { ja: japanese },
    min_length: 8,
    max_length: LIMITS.urlMaxLength,
  }) as const;

const attachment = <const N extends string>(name: N, description: string, japanese: string) =>
  ({ type: T.Attachment, name, description, description_localizations: { ja: japanese } }) as const;

export const VideoText = subcommand({
  name: "text",
  description: "Make a video from a text prompt",
  description_localizations: { ja: "テキストのプロンプトから動画を作ります" },
  options: [prompt, model, duration, aspectRatio, sound, negativePrompt, promptFidelity],
});

export const VideoImage = subcommand({
  name: "image",
  description: "Animate a still image",
  description_localizations: { ja: "静止画を動かして動画にします" },
  options: [
    prompt,
    attachment("image", "Start image (PNG, JPEG or WebP)", "最初のフレームの画像（PNG、JPEG、WebP）"),
    url(
      "image_url",
      "Start image as an https link (instead of an attachment)",
      "最初のフレームの画像の https リンク（添付の代わりに）",
    ),
    attachment("end_image", "Last frame (PNG, JPEG or WebP)", "最後のフレームの画像（PNG、JPEG、WebP）"),
    url(
      "end_image_url",
      "Last frame as an https link (instead of an attachment)",
      "最後のフレームの画像の https リンク（添付の代わりに）",
    ),
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
  description_localizations: { ja: "参照画像に沿った動画を作ります（Kling O3）" },
  options: [
    prompt,
    {
      ...attachment("image1", "Reference image (PNG, JPEG or WebP)", "参照画像（PNG、JPEG、WebP）"),
      required: true,
    },
    attachment("image2", "Reference image", "参照画像"),
    attachment("image3", "Reference image", "参照画像"),
    attachment("image4", "Reference image", "参照画像"),
    attachment("image5", "Reference image", "参照画像"),
    attachment("image6", "Reference image", "参照画像"),
    attachment("image7", "Reference image", "参照画像"),
    attachment("video", "Reference video (MP4 or MOV)", "参照動画（MP4 か MOV）"),
    quality,
    duration,
    aspectRatio,
  ],
});

export const VideoEdit = subcommand({
  name: "edit",
  description: "Change an existing video with a prompt (Kling O3)",
  description_localizations: { ja: "プロンプトで既存の動画を編集します（Kling O3）" },
  options: [
    prompt,
    attachment("video", "Video to edit (MP4 or MOV)", "編集する動画（MP4 か MOV）"),
    url(
      "video_url",
      "Video to edit as an https link (instead of an attachment)",
      "編集する動画の https リンク（添付の代わりに）",
    ),
    quality,
    {
      type: T.Boolean,
      name: "keep_original_sound",
      description: "Keep the video's own audio (default on)",
      description_localizations: { ja: "元の動画の音声を残します（既定はオン）" },
    },
  ],
});

/** A job of the member's, autocompleted from their recent ones. */
const jobOption = {
  type: T.Integer,
  name: "job",
  description: "The video's number in this server (#3 is 3)",
  description_localizations: { ja: "このサーバーでの動画の番号（#3 なら 3）" },
  required: true,
  min_value: 1,
  autocomplete: true,
} as const;

export const VideoStatus = subcommand({
  name: "status",
  description: "Show where one of your videos is",
  description_localizations: { ja: "あなたの動画の進み具合を表示します" },
  options: [jobOption],
});

export const VideoCancel = subcommand({
  name: "cancel",
  description: "Cancel a video not yet sent (queued or waiting for approval); its credits go back",
  description_localizations: { ja: "送信前（待機中・承認待ち）の動画をキャンセルし、クレジットを戻します" },
  options: [jobOption],
});

export const VideoHistory = subcommand({
  name: "history",
  description: "Your recent videos in this server",
  description_localizations: { ja: "このサーバーでのあなたの最近の動画" },
  options: [],
});

export const VideoCommand = guildCommand({
  name: "video",
  description: "Make short video clips with Kling",
  description_localizations: { ja: "Kling で短い動画クリップを作ります" },
  options: [VideoText, VideoImage, VideoReference, VideoEdit, VideoStatus, VideoHistory, VideoCancel],
});

export type VideoTextArgs = ArgumentsOf<typeof VideoText>;
export type VideoImageArgs = ArgumentsOf<typeof VideoImage>;
export type VideoReferenceArgs = ArgumentsOf<typeof VideoReference>;
export type VideoEditArgs = ArgumentsOf<typeof VideoEdit>;
export type VideoStatusArgs = ArgumentsOf<typeof VideoStatus>;
