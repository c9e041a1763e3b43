import { cost } from "../kling/pricing.js";
import {
  ASPECT_RATIOS,
  DEFAULTS,
  isTaskType,
  kindOf,
  MAX_DURATION,
  MAX_PROMPT_LENGTH,
  MAX_REFERENCE_IMAGES,
  MIN_DURATION,
} from "../kling/types.js";
import { type Answer, apiError, success } from "./answers.js";
import type { PaddedVideo } from "./sample-video.js";
import { type SimAccount, TASK_ID_PREFIX } from "./tasks.js";

/** The simulated API: POST /api/generate, GET /api/status, and the video files behind the result URLs. */

export type SimRoute = "generate" | "status" | "video" | "any";

export function routeOf(pathname: string): SimRoute | "other" {
  return pathname === "/api/generate"
    ? "generate"
    : pathname === "/api/status"
      ? "status"
      : pathname.startsWith("/videos/")
        ? "video"
        : "other";
}

interface ApiRequest {
  route: SimRoute | "other";
  method: string;
  url: URL;
  /** The parsed JSON body, or undefined. */
  body: unknown;
  tooLarge: boolean;
  authorized: boolean;
}

export function answerApi(
  account: SimAccount,
  video: PaddedVideo,
  { route, method, url, body, tooLarge, authorized }: ApiRequest,
): Answer {
  const head = method === "HEAD";
  if (route === "video") {
    return method === "GET" || head
      ? serveVideo(account, video, url.pathname)
      : apiError(405, "METHOD_NOT_ALLOWED", "Use GET.");
  }
  if (route === "other") return apiError(404, "NOT_FOUND", `No endpoint ${url.pathname}.`);
  if (!authorized) return apiError(401, "INVALID_API_KEY", "The API key is missing or invalid.");
  if (route === "generate") {
    if (method !== "POST") return apiError(405, "METHOD_NOT_ALLOWED", "Use POST /api/generate.");
    if (tooLarge) return apiError(413, "PAYLOAD_TOO_LARGE", "The body is larger than 1 MiB.");
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return apiError(400, "INVALID_REQUEST", "The body must be a JSON object.");
    }
    return createTask(account, body as Record<string, unknown>);
  }
  return method === "GET"
    ? taskStatus(account, url.searchParams)
    : apiError(405, "METHOD_NOT_ALLOWED", "Use GET.");
}

function createTask(account: SimAccount, body: Record<string, unknown>): Answer {
  const type = body.type;
  if (!isTaskType(type)) {
    return apiError(400, "INVALID_TYPE", `Unsupported task type: ${JSON.stringify(type ?? null)}.`);
  }
  const kind = kindOf(type);
  const prompt = body.prompt;
  if (typeof prompt !== "string" || prompt.trim() === "") {
    return apiError(400, "INVALID_PROMPT", "The prompt is missing or empty.");
  }
  if (prompt.length > MAX_PROMPT_LENGTH) {
    return apiError(400, "INVALID_PROMPT", `The prompt is longer than ${MAX_PROMPT_LENGTH} characters.`);
  }
  let duration: number = DEFAULTS.duration;
  if (kind === "video-edit") {
    if (body.duration !== undefined && body.duration !== "auto") {
      return apiError(400, "INVALID_DURATION", "Video edit takes no duration (auto).");
    }
  } else if (body.duration !== undefined) {
    const d = body.duration;
    if (typeof d !== "number" || !Number.isInteger(d) || d < MIN_DURATION || d > MAX_DURATION) {
      return apiError(
        400,
        "INVALID_DURATION",
        `Duration must be a whole number of seconds from ${MIN_DURATION} to ${MAX_DURATION}.`,
      );
    }
    duration = d;
  }
  if (body.aspect_ratio !== undefined && !(ASPECT_RATIOS as readonly unknown[]).includes(body.aspect_ratio)) {
    return apiError(400, "INVALID_REQUEST", `aspect_ratio must be one of ${ASPECT_RATIOS.join(", ")}.`);
  }
  if (body.sound !== undefined && typeof body.sound !== "boolean") {
    return apiError(400, "INVALID_REQUEST", "sound must be true or false.");
  }
  if (kind === "image-to-video" && !isHttpUrl(body.image)) {
    return apiError(400, "MISSING_IMAGE", "Image-to-video needs an image URL in `image`.");
  }
  if (kind === "reference-to-video") {
    const images = body.images;
    if (!Array.isArray(images) || images.length === 0 || !images.every(isHttpUrl)) {
      return apiError(400, "MISSING_IMAGE", "Reference-to-video needs image URLs in `images`.");
    }
    if (images.length > MAX_REFERENCE_IMAGES) {
      return apiError(400, "INVALID_REQUEST", `At most ${MAX_REFERENCE_IMAGES} reference images.`);
    }
  }
  if (kind === "video-edit" && !isHttpUrl(body.video)) {
    return apiError(400, "MISSING_VIDEO", "Video edit needs a video URL in `video`.");
  }
  const sound = typeof body.sound === "boolean" ? body.sound : DEFAULTS.sound;
  const price = cost(type, kind === "video-edit" ? undefined : duration, sound);
  if (price > account.balance) {
    return apiError(
      402,
      "INSUFFICIENT_CREDITS",
      `This task costs ${price} credits; the account has ${account.balance}.`,
    );
  }
  const task = account.create(type, body, price);
  return success({ task_id: task.id, status: "IN_PROGRESS", consumed_credits: price });
}

function taskStatus(account: SimAccount, query: URLSearchParams): Answer {
  const id = query.get("task_id")?.trim();
  if (!id) return apiError(400, "INVALID_REQUEST", "The task_id query parameter is required.");
  if (!id.startsWith(TASK_ID_PREFIX.kling3) && !id.startsWith(TASK_ID_PREFIX.o3)) {
    return apiError(404, "TASK_NOT_FOUND", `No task ${id}: ids start with n75 (Kling 3.0) or n71 (O3).`);
  }
  const task = account.tasks.get(id);
  if (!task) return apiError(404, "TASK_NOT_FOUND", `No task ${id}.`);
  account.settle();
  const done = account.now() >= task.doneAt;
  return success({
    task_id: task.id,
    status: done ? task.end.status : "IN_PROGRESS",
    consumed_credits: task.refunded ? 0 : task.price,
    created_at: new Date(task.createdAt).toISOString(),
    request: task.request,
    response: done ? task.end.response : [],
    error_message: done ? task.end.errorMessage : null,
    ...(done && task.end.failedReason !== undefined ? { failed_reason: task.end.failedReason } : {}),
    type: task.type,
  });
}

function serveVideo(account: SimAccount, video: PaddedVideo, path: string): Answer {
  const id = /^\/videos\/([A-Za-z0-9]+)\.mp4$/.exec(path)?.[1];
  if (!id || (id !== "sample" && !account.tasks.has(id))) {
    return apiError(404, "NOT_FOUND", `No video at ${path}.`);
  }
  return {
    status: 200,
    headers: { "content-type": "video/mp4", "cache-control": "no-store" },
    body: video.stream(),
    length: video.length,
  };
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false;
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
