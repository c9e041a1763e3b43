import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { apiError, send } from "./answers.js";
import { answerApi, routeOf, type SimRoute } from "./api.js";
import { answerControl } from "./control.js";
import { actOutFault, FaultQueue, type FaultRule } from "./faults.js";
import { type RecordedRequest, recordOf } from "./requests.js";
import { paddedVideo } from "./sample-video.js";
import { SimAccount, type SimTask, type TaskOutcome } from "./tasks.js";

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
 *   reports `consumed_credits: 0`. An outcome with `keepCharge` (the prompt marker `[fail-charged]`) models a
 *   failed task the API still charged for: no refund, `consumed_credits` stays the price.
 * - Video URLs need no Authorization (they model a CDN).
 * - Control endpoints under /_sim/ (balance, faults, finish, requests, tasks) need no key: this is a local tool.
 */

// The simulator's parts, importable from here as before the split.
export type { SimRoute } from "./api.js";
export { type FaultRule, faultRuleSchema } from "./faults.js";
export type { RecordedRequest } from "./requests.js";
export { paddedVideo } from "./sample-video.js";
export { PROMPT_MARKERS, type SimTask, type TaskOutcome } from "./tasks.js";

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

const MAX_BODY = 1024 * 1024;

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
  const maxRecorded = options.maxRecordedRequests ?? 10_000;
  let video = paddedVideo(options.videoBytes);
  const requests: RecordedRequest[] = [];
  const faults = new FaultQueue();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let publicUrl = options.publicUrl?.replace(/\/+$/, "") ?? "";

  const videoUrl = (id: string) => `${publicUrl}/videos/${id}.mp4`;
  const account = new SimAccount({
    balance: options.balance ?? 1_000_000_000,
    taskDurationMs: options.taskDurationMs ?? 200,
    now,
    outcome: options.outcome,
    videoUrl,
  });

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
      send(res, answerControl({ account, faults, requests }, method, url.pathname, body), false);
      return;
    }

    const route = routeOf(url.pathname);
    const fault = faults.take(route);
    const record = recordOf({ req, url, route, apiKey, body, rawBody: text, at: now(), fault });
    requests.push(record);
    if (requests.length > maxRecorded) requests.splice(0, requests.length - maxRecorded);
    options.onRequest?.(record);

    const head = method === "HEAD";
    if (fault && fault.kind !== "delay") {
      actOutFault(fault, req, res, head);
      return;
    }
    const answer = answerApi(account, video, {
      route,
      method,
      url,
      body,
      tooLarge,
      authorized: record.authorized,
    });
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
    tasks: account.tasks,
    balance: () => {
      account.settle();
      return account.balance;
    },
    setBalance: (credits) => {
      account.balance = credits;
    },
    inject: (rule) => faults.inject(rule),
    clearFaults: () => faults.clear(),
    finish: (taskId, outcome) => account.finish(taskId, outcome),
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
