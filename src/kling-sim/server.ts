import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Readable } from "node:stream";
import { z } from "zod";
import { cost } from "../kling/pricing.js";
import {
  ASPECT_RATIOS,
  DEFAULTS,
  familyOf,
  isTaskType,
  kindOf,
  MAX_DURATION,
  MAX_PROMPT_LENGTH,
  MAX_REFERENCE_IMAGES,
  MIN_DURATION,
  type TaskType,
} from "../kling/types.js";
import { SAMPLE_MP4 } from "./sample-video.js";

/**
 * A stand-in for the Kling 3.0 API (see /work/shared/kling-api.md) for tests and for running the bot without
 * spending credits. It follows the documented contract: Bearer auth, the `{code, message, data}` envelope, the
 * documented error codes and statuses, `n75`/`n71` task ids, prices from the price table, an account balance.
 *
 * Where the seed is silent this simulator makes a choice, kept here:
 * - Error bodies: `{ "code": <http status>, "message": "<CODE>: <text>", "error": { "code": "<CODE>", "message": "<text>" } }`.
 * - Errors the seed does not list use their own codes: INVALID_REQUEST (400: body not a JSON object, bad aspect
 *   ratio, more than 7 images), TASK_NOT_FOUND (404), NOT_FOUND (404), METHOD_NOT_ALLOWED (405), PAYLOAD_TOO_LARGE (413).
 * - A video edit with a numeric duration is refused with INVALID_DURATION (the seed says "auto").
 * - Credits are debited when a task is created and given back when it ends FAILED or EXPIRED; a failed task then
 *   reports `consumed_credits: 0`.
 * - Video URLs need no Authorization (they model a CDN).
 * - Control endpoints under /_sim/ (balance, faults, finish, requests, tasks) need no key: this is a local tool.
 */

export type SimRoute = "generate" | "status" | "video" | "any";

/** One injected fault; it applies to the next `times` (default 1) requests of its route. */
export type FaultRule = { route?: SimRoute; times?: number } & (
  | { kind: "rate-limit"; retryAfter?: number | string | null }
  | { kind: "error"; status?: number; code?: string; message?: string; retryAfter?: number | string | null }
  /** Handle the request normally but answer `ms` later (the work, e.g. creating a task, is done at once). */
  | { kind: "delay"; ms: number }
  /** Never answer (until the simulator closes). */
  | { kind: "hang" }
  /** Read the request, then drop the connection without answering and without acting on it. */
  | { kind: "reset" }
  | { kind: "malformed"; body?: string; status?: number; contentType?: string }
);

export const faultRuleSchema: z.ZodType<FaultRule> = z.union([
  z.object({
    route: z.enum(["generate", "status", "video", "any"]).optional(),
    times: z.number().int().min(1).optional(),
    kind: z.literal("rate-limit"),
    retryAfter: z.union([z.number(), z.string()]).nullish(),
  }),
  z.object({
    route: z.enum(["generate", "status", "video", "any"]).optional(),
    times: z.number().int().min(1).optional(),
    kind: z.literal("error"),
    status: z.number().int().min(400).max(599).optional(),
    code: z.string().optional(),
    message: z.string().optional(),
    retryAfter: z.union([z.number(), z.string()]).nullish(),
  }),
  z.object({
    route: z.enum(["generate", "status", "video", "any"]).optional(),
    times: z.number().int().min(1).optional(),
    kind: z.literal("delay"),
    ms: z.number().min(0),
  }),
  z.object({
    route: z.enum(["generate", "status", "video", "any"]).optional(),
    times: z.number().int().min(1).optional(),
    kind: z.enum(["hang", "reset"]),
  }),
  z.object({
    route: z.enum(["generate", "status", "video", "any"]).optional(),
    times: z.number().int().min(1).optional(),
    kind: z.literal("malformed"),
    body: z.string().optional(),
    status: z.number().int().min(100).max(599).optional(),
    contentType: z.string().optional(),
  }),
]) as z.ZodType<FaultRule>;

/** How a task ends. Strings are shorthands; the object form sets the raw fields of the final status. */
export type TaskOutcome =
  | "success"
  | "completed"
  | "failed"
  | "expired"
  | { failed: string }
  | {
      status: string;
      /** Video URLs; default: the simulator's own video URL for SUCCESS/COMPLETED, none otherwise. */
      response?: string[];
      errorMessage?: string | null;
      failedReason?: string;
      /** Overrides `taskDurationMs` for this task. */
      durationMs?: number;
    };

/** Prompt markers that choose a task's outcome when no `outcome` function decides. */
export const PROMPT_MARKERS: Readonly<Record<string, TaskOutcome>> = Object.freeze({
  "[fail]": { failed: "Simulated failure: the prompt contains [fail]." },
  "[fail-reason]": {
    status: "FAILED",
    errorMessage: null,
    failedReason: "Simulated failure reported in failed_reason.",
  },
  "[expire]": "expired",
  "[completed]": "completed",
  "[unknown-status]": { status: "MYSTERY_STATE" },
  "[no-url]": { status: "SUCCESS", response: [] },
});

export interface SimTask {
  readonly id: string;
  readonly type: TaskType;
  /** The JSON body of the generate request that made it. */
  readonly request: Record<string, unknown>;
  readonly price: number;
  readonly createdAt: number;
  /** When it leaves IN_PROGRESS; `finish()` moves it to now. */
  doneAt: number;
  end: { status: string; response: string[]; errorMessage: string | null; failedReason?: string };
  refunded: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  route: SimRoute | "other";
  /** Lower-case header names; the Authorization value is replaced by "<scheme> [redacted]". */
  headers: Record<string, string>;
  /** Whether the Authorization header carried the simulator's key. */
  authorized: boolean;
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  rawBody: string;
  at: number;
  /** The injected fault that answered it, if any. */
  fault?: FaultRule["kind"];
}

export interface KlingSimulatorOptions {
  port?: number;
  host?: string;
  apiKey?: string;
  /** How long a task stays IN_PROGRESS. Default 200 ms (tests); the CLI uses 20 s. */
  taskDurationMs?: number;
  /** Account balance in credits. Default 1 000 000 000. */
  balance?: number;
  /** Decide a task's end from the generate body; undefined falls back to prompt markers, then success. */
  outcome?: (body: Record<string, unknown>) => TaskOutcome | undefined;
  /** Size of served videos: the sample MP4 padded with a trailing `free` box (never smaller than the sample). */
  videoBytes?: number;
  /** Base of the video URLs in results when the simulator sits behind another address. */
  publicUrl?: string;
  /** Keep at most this many recorded requests (oldest dropped). Default 10 000. */
  maxRecordedRequests?: number;
  onRequest?: (request: RecordedRequest) => void;
  now?: () => number;
}

export interface KlingSimulator {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Every API and video request, in arrival order (control requests under /_sim/ are not recorded). */
  readonly requests: RecordedRequest[];
  readonly tasks: ReadonlyMap<string, SimTask>;
  balance(): number;
  setBalance(credits: number): void;
  inject(rule: FaultRule): void;
  clearFaults(): void;
  /** End a task now, optionally with another outcome. */
  finish(taskId: string, outcome?: TaskOutcome): void;
  requestsTo(route: SimRoute | "other"): RecordedRequest[];
  clearRequests(): void;
  videoUrl(taskId: string): string;
  setVideoBytes(bytes: number | undefined): void;
  close(): Promise<void>;
}

const PREFIX = { kling3: "n75", o3: "n71" } as const;
const MAX_BODY = 1024 * 1024;

type Answer = { status: number; headers?: Record<string, string>; body: string | Readable; length?: number };

function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

function apiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Answer {
  return json(status, { code: status, message: `${code}: ${message}`, error: { code, message } }, headers);
}

function success(data: unknown): Answer {
  return json(200, { code: 200, message: "success", data });
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

/** The sample MP4 followed by a `free` box, so the file stays valid at any size. */
export function paddedVideo(target: number | undefined): { length: number; stream: () => Readable } {
  const base = SAMPLE_MP4;
  if (target === undefined || target <= base.length) {
    return { length: base.length, stream: () => Readable.from([base]) };
  }
  let pad = Math.max(8, target - base.length);
  const large = pad > 0xffff_ffff;
  if (large) pad = Math.max(pad, 16);
  const header = Buffer.alloc(large ? 16 : 8);
  if (large) {
    header.writeUInt32BE(1, 0);
    header.write("free", 4, "latin1");
    header.writeBigUInt64BE(BigInt(pad), 8);
  } else {
    header.writeUInt32BE(pad, 0);
    header.write("free", 4, "latin1");
  }
  const zeros = Buffer.alloc(64 * 1024);
  const payload = pad - header.length;
  function* chunks(): Generator<Buffer> {
    yield base;
    yield header;
    let left = payload;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      yield n === zeros.length ? zeros : zeros.subarray(0, n);
      left -= n;
    }
  }
  return { length: base.length + pad, stream: () => Readable.from(chunks(), { objectMode: false }) };
}

function endFor(outcome: TaskOutcome, videoUrl: string): SimTask["end"] & { durationMs?: number } {
  if (outcome === "success") return { status: "SUCCESS", response: [videoUrl], errorMessage: null };
  if (outcome === "completed") return { status: "COMPLETED", response: [videoUrl], errorMessage: null };
  if (outcome === "failed") return { status: "FAILED", response: [], errorMessage: "Simulated failure." };
  if (outcome === "expired") {
    return { status: "EXPIRED", response: [], errorMessage: null, failedReason: "The task expired." };
  }
  if ("failed" in outcome) return { status: "FAILED", response: [], errorMessage: outcome.failed };
  const succeeded = outcome.status === "SUCCESS" || outcome.status === "COMPLETED";
  return {
    status: outcome.status,
    response: outcome.response ?? (succeeded ? [videoUrl] : []),
    errorMessage: outcome.errorMessage ?? null,
    ...(outcome.failedReason === undefined ? {} : { failedReason: outcome.failedReason }),
    ...(outcome.durationMs === undefined ? {} : { durationMs: outcome.durationMs }),
  };
}

function outcomeFromPrompt(body: Record<string, unknown>): TaskOutcome | undefined {
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  for (const [marker, outcome] of Object.entries(PROMPT_MARKERS)) if (prompt.includes(marker)) return outcome;
  return undefined;
}

function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge }));
    req.on("error", reject);
  });
}

export async function startKlingSimulator(options: KlingSimulatorOptions = {}): Promise<KlingSimulator> {
  const apiKey = options.apiKey ?? "sim-key";
  const now = options.now ?? Date.now;
  const taskDurationMs = options.taskDurationMs ?? 200;
  const maxRecorded = options.maxRecordedRequests ?? 10_000;
  let balance = options.balance ?? 1_000_000_000;
  let video = paddedVideo(options.videoBytes);
  const tasks = new Map<string, SimTask>();
  const requests: RecordedRequest[] = [];
  const faults: (FaultRule & { left: number })[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let publicUrl = options.publicUrl?.replace(/\/+$/, "") ?? "";

  const videoUrl = (id: string) => `${publicUrl}/videos/${id}.mp4`;

  /** Give back the credits of tasks that have ended in failure. */
  function settle(): void {
    const t = now();
    for (const task of tasks.values()) {
      if (
        !task.refunded &&
        t >= task.doneAt &&
        (task.end.status === "FAILED" || task.end.status === "EXPIRED")
      ) {
        task.refunded = true;
        balance += task.price;
      }
    }
  }

  function takeFault(route: SimRoute | "other"): FaultRule | undefined {
    const index = faults.findIndex((f) => f.route === "any" || f.route === undefined || f.route === route);
    if (index < 0 || route === "other") return undefined;
    const fault = faults[index]!;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  }

  function createTask(body: Record<string, unknown>): Answer {
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
    if (
      body.aspect_ratio !== undefined &&
      !(ASPECT_RATIOS as readonly unknown[]).includes(body.aspect_ratio)
    ) {
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
    if (price > balance) {
      return apiError(
        402,
        "INSUFFICIENT_CREDITS",
        `This task costs ${price} credits; the account has ${balance}.`,
      );
    }
    balance -= price;
    const id = `${PREFIX[familyOf(type)]}${randomBytes(8).toString("hex")}`;
    const chosen = options.outcome?.(body) ?? outcomeFromPrompt(body) ?? "success";
    const { durationMs, ...end } = endFor(chosen, videoUrl(id));
    const createdAt = now();
    tasks.set(id, {
      id,
      type,
      request: body,
      price,
      createdAt,
      doneAt: createdAt + (durationMs ?? taskDurationMs),
      end,
      refunded: false,
    });
    return success({ task_id: id, status: "IN_PROGRESS", consumed_credits: price });
  }

  function taskStatus(query: URLSearchParams): Answer {
    const id = query.get("task_id")?.trim();
    if (!id) return apiError(400, "INVALID_REQUEST", "The task_id query parameter is required.");
    if (!id.startsWith(PREFIX.kling3) && !id.startsWith(PREFIX.o3)) {
      return apiError(404, "TASK_NOT_FOUND", `No task ${id}: ids start with n75 (Kling 3.0) or n71 (O3).`);
    }
    const task = tasks.get(id);
    if (!task) return apiError(404, "TASK_NOT_FOUND", `No task ${id}.`);
    settle();
    const done = now() >= task.doneAt;
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

  function serveVideo(path: string): Answer {
    const id = /^\/videos\/([A-Za-z0-9]+)\.mp4$/.exec(path)?.[1];
    if (!id || (id !== "sample" && !tasks.has(id))) return apiError(404, "NOT_FOUND", `No video at ${path}.`);
    return {
      status: 200,
      headers: { "content-type": "video/mp4", "cache-control": "no-store" },
      body: video.stream(),
      length: video.length,
    };
  }

  function control(method: string, path: string, body: unknown): Answer {
    const obj = (body ?? {}) as Record<string, unknown>;
    switch (`${method} ${path}`) {
      case "GET /_sim/health":
        return json(200, { ok: true });
      case "GET /_sim/requests":
        return json(200, requests);
      case "DELETE /_sim/requests":
        requests.length = 0;
        return json(200, { ok: true });
      case "GET /_sim/tasks":
        settle();
        return json(200, [...tasks.values()]);
      case "GET /_sim/balance":
        settle();
        return json(200, { balance });
      case "POST /_sim/balance": {
        const n = obj.balance;
        if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
          return apiError(400, "INVALID_REQUEST", "Send { balance: <credits ≥ 0> }.");
        }
        balance = n;
        return json(200, { balance });
      }
      case "POST /_sim/fail-next": {
        const parsed = faultRuleSchema.safeParse({ kind: "error", ...obj });
        if (!parsed.success) return apiError(400, "INVALID_REQUEST", z.prettifyError(parsed.error));
        inject(parsed.data);
        return json(200, { ok: true, faults: faults.length });
      }
      case "POST /_sim/faults/clear":
        faults.length = 0;
        return json(200, { ok: true });
      case "POST /_sim/finish": {
        const id = obj.task_id;
        if (typeof id !== "string" || !tasks.has(id))
          return apiError(404, "TASK_NOT_FOUND", "Send { task_id, outcome? }.");
        finish(id, obj.outcome as TaskOutcome | undefined);
        return json(200, { ok: true });
      }
      default:
        return apiError(404, "NOT_FOUND", `No control endpoint ${method} ${path}.`);
    }
  }

  function inject(rule: FaultRule): void {
    faults.push({ ...rule, route: rule.route ?? "any", left: rule.times ?? 1 });
  }

  function finish(taskId: string, outcome?: TaskOutcome): void {
    const task = tasks.get(taskId);
    if (!task) throw new Error(`no simulated task ${taskId}`);
    if (outcome !== undefined) {
      const { durationMs: _ignored, ...end } = endFor(outcome, videoUrl(taskId));
      task.end = end;
    }
    task.doneAt = Math.min(task.doneAt, now());
  }

  function send(res: ServerResponse, answer: Answer, head: boolean): void {
    if (res.destroyed) return;
    const headers: Record<string, string | number> = { ...answer.headers };
    if (typeof answer.body === "string") headers["content-length"] = Buffer.byteLength(answer.body);
    else if (answer.length !== undefined) headers["content-length"] = answer.length;
    res.writeHead(answer.status, headers);
    if (head) {
      if (typeof answer.body !== "string") answer.body.destroy();
      res.end();
    } else if (typeof answer.body === "string") {
      res.end(answer.body);
    } else {
      answer.body.on("error", () => res.destroy());
      answer.body.pipe(res);
    }
  }

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim.invalid");
    const method = req.method ?? "GET";
    const { text, tooLarge } = await readBody(req);
    let body: unknown;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }

    if (url.pathname.startsWith("/_sim/")) {
      send(res, control(method, url.pathname, body), false);
      return;
    }

    const route: SimRoute | "other" =
      url.pathname === "/api/generate"
        ? "generate"
        : url.pathname === "/api/status"
          ? "status"
          : url.pathname.startsWith("/videos/")
            ? "video"
            : "other";
    const auth = req.headers.authorization ?? "";
    const authorized = /^bearer\s+/i.test(auth) && auth.replace(/^bearer\s+/i, "") === apiKey;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = name === "authorization" ? `${auth.split(/\s+/)[0] ?? ""} [redacted]` : String(value);
    }
    const fault = takeFault(route);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      route,
      headers,
      authorized,
      body,
      rawBody: text,
      at: now(),
      ...(fault ? { fault: fault.kind } : {}),
    };
    requests.push(record);
    if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);
    options.onRequest?.(record);

    const head = method === "HEAD";
    if (fault) {
      switch (fault.kind) {
        case "rate-limit": {
          const ra = fault.retryAfter === undefined ? "1" : fault.retryAfter;
          send(
            res,
            apiError(
              429,
              "RATE_LIMITED",
              "Too many requests: slow down.",
              ra === null ? {} : { "retry-after": String(ra) },
            ),
            head,
          );
          return;
        }
        case "error": {
          const status = fault.status ?? 500;
          const ra = fault.retryAfter;
          send(
            res,
            apiError(
              status,
              fault.code ?? (status >= 500 ? "INTERNAL_ERROR" : "INVALID_REQUEST"),
              fault.message ?? "Simulated error.",
              ra === undefined || ra === null ? {} : { "retry-after": String(ra) },
            ),
            head,
          );
          return;
        }
        case "malformed":
          send(
            res,
            {
              status: fault.status ?? 200,
              headers: { "content-type": fault.contentType ?? "application/json" },
              body: fault.body ?? '{"code":200,"message":"success","data":{"task_id":',
            },
            head,
          );
          return;
        case "reset": {
          const socket = req.socket as Socket & { resetAndDestroy?: () => void };
          if (socket.resetAndDestroy) socket.resetAndDestroy();
          else socket.destroy();
          return;
        }
        case "hang":
          return;
        case "delay":
          break;
      }
    }

    let answer: Answer;
    if (route === "video") {
      answer =
        method === "GET" || head ? serveVideo(url.pathname) : apiError(405, "METHOD_NOT_ALLOWED", "Use GET.");
    } else if (route === "other") {
      answer = apiError(404, "NOT_FOUND", `No endpoint ${url.pathname}.`);
    } else if (!authorized) {
      answer = apiError(401, "INVALID_API_KEY", "The API key is missing or invalid.");
    } else if (route === "generate") {
      if (method !== "POST") answer = apiError(405, "METHOD_NOT_ALLOWED", "Use POST /api/generate.");
      else if (tooLarge) answer = apiError(413, "PAYLOAD_TOO_LARGE", "The body is larger than 1 MiB.");
      else if (!body || typeof body !== "object" || Array.isArray(body)) {
        answer = apiError(400, "INVALID_REQUEST", "The body must be a JSON object.");
      } else answer = createTask(body as Record<string, unknown>);
    } else {
      answer =
        method === "GET" ? taskStatus(url.searchParams) : apiError(405, "METHOD_NOT_ALLOWED", "Use GET.");
    }

    if (fault?.kind === "delay") later(fault.ms, () => send(res, answer, head));
    else send(res, answer, head);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        send(res, apiError(500, "INTERNAL_ERROR", `Simulator bug: ${String(err)}`), false);
      else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // Bound to every interface: advertise loopback, which always reaches it from this machine.
  const shown =
    address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
  const host = shown.includes(":") ? `[${shown}]` : shown;
  const url = `http://${host}:${address.port}`;
  if (!publicUrl) publicUrl = url;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    apiKey,
    requests,
    tasks,
    balance: () => {
      settle();
      return balance;
    },
    setBalance: (credits) => {
      balance = credits;
    },
    inject,
    clearFaults: () => {
      faults.length = 0;
    },
    finish,
    requestsTo: (route) => requests.filter((r) => r.route === route),
    clearRequests: () => {
      requests.length = 0;
    },
    videoUrl,
    setVideoBytes: (bytes) => {
      video = paddedVideo(bytes);
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
