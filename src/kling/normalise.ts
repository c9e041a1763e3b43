import type { z } from "zod";
import type { Logger } from "../log.js";
import { cleanServerText } from "./errors.js";
import type { statusDataSchema } from "./response.js";
import type { TaskStatus } from "./types.js";

/** Turning Kling's many status words and result shapes into one `TaskStatus`. */

// Status words, normalised to upper snake case. The seed shows IN_PROGRESS and SUCCESS; the rest were seen in
// public client code for this gateway or are common spellings of the same states.
const RUNNING = new Set([
  "IN_PROGRESS",
  "PENDING",
  "QUEUED",
  "QUEUING",
  "PROCESSING",
  "RUNNING",
  "SUBMITTED",
  "CREATED",
  "STARTING",
  "STARTED",
  "WAITING",
  "GENERATING",
]);
const SUCCEEDED = new Set([
  "SUCCESS",
  "SUCCEEDED",
  "SUCCESSFUL",
  "COMPLETED",
  "COMPLETE",
  "DONE",
  "FINISHED",
]);
const FAILED = new Set(["FAILED", "FAILURE", "FAIL", "ERROR", "EXPIRED", "CANCELLED", "CANCELED", "TIMEOUT"]);

export interface NormaliseContext {
  log: Logger;
  apiKey: string;
  /** Status words already reported as unknown, so the operator is told once per word (per client). */
  unknownStatuses: Set<string>;
}

export function normaliseStatus(
  context: NormaliseContext,
  taskId: string,
  /** From generate, with `response` cleared: a task being created is read for its result by polling. */
  data: z.infer<typeof statusDataSchema>,
  fromGenerate: boolean,
): TaskStatus {
  const raw = (data.status ?? "").trim();
  const key = raw.toUpperCase().replace(/[\s-]+/g, "_");
  const consumed = data.consumed_credits === undefined ? {} : { consumedCredits: data.consumed_credits };
  if (SUCCEEDED.has(key)) {
    const videoUrl = firstVideoUrl(data.response);
    if (videoUrl) return { state: "succeeded", taskId, videoUrl, ...consumed };
    // A just-created task cannot have a video yet; the poll will find it.
    if (fromGenerate) return { state: "running", taskId, rawStatus: raw, ...consumed };
    // Polling again would not change the answer: end the job at once with the reason.
    context.log.warn({ taskId, rawStatus: raw }, "Kling reported a finished task without a usable video URL");
    return { state: "unusable", taskId, reason: "no usable video URL in data.response", ...consumed };
  }
  if (FAILED.has(key)) {
    const reason = reasonText(data.error_message) ?? reasonText(data.failed_reason);
    return {
      state: "failed",
      taskId,
      rawStatus: raw,
      ...(reason === undefined ? {} : { reason: cleanServerText(reason, [context.apiKey]) }),
      ...consumed,
    };
  }
  if (!RUNNING.has(key) && !(fromGenerate && key === "")) {
    // Keep polling until the job's own time limit rather than guess; tell the operator once per status word.
    if (!context.unknownStatuses.has(key)) {
      context.unknownStatuses.add(key);
      context.log.warn(
        { taskId, rawStatus: raw },
        "Kling reported an unknown task status; treating it as running",
      );
    }
  }
  return { state: "running", taskId, rawStatus: raw || "(none)", ...consumed };
}

function firstVideoUrl(response: unknown): string | undefined {
  const first = Array.isArray(response) ? response[0] : response;
  const candidate =
    typeof first === "string"
      ? first
      : first && typeof first === "object"
        ? (first as { url?: unknown }).url
        : undefined;
  if (typeof candidate !== "string") return undefined;
  try {
    const url = new URL(candidate.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function reasonText(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() || undefined;
  if (value && typeof value === "object") {
    const msg = (value as { message?: unknown }).message;
    if (typeof msg === "string" && msg.trim()) return msg.trim();
    return JSON.stringify(value);
  }
  return undefined;
}
