import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { Agent, type Dispatcher, request } from "undici";
import { isPublicAddress } from "../net/address.js";

/**
 * Fetch a finished video, safely. The API names the URL, so the URL is not trusted:
 * - only `https`, and only hosts whose every resolved address is public (checked at connect time, after DNS,
 *   for the first request and for every redirect hop), except the origins the operator trusts (the API's own);
 * - only what is an MP4/MOV by its first bytes (an `ftyp` box), whatever the Content-Type says;
 * - bounded by size, by total time and by minimum progress, and cancellable, so a host that trickles bytes
 *   cannot hold a delivery slot or a shutdown.
 */

export interface DownloadPolicy {
  /** A body larger than this is not read: the caller links the video instead. */
  maxBytes: number;
  /** The whole download, from the first request to the last byte. */
  totalTimeoutMs: number;
  /** After `graceMs`, the average rate must stay at or above this. */
  minBytesPerSecond: number;
  graceMs: number;
}

export type Download =
  | { kind: "file"; data: Buffer; contentType: "video/mp4" | "video/quicktime"; extension: "mp4" | "mov" }
  | { kind: "too-large"; size: number | undefined };

/** Why a download failed; `retryable` failures may succeed on a later try, the others never will. */
export type DownloadFailure =
  | "http-status"
  | "network"
  | "timed-out"
  | "too-slow"
  | "cancelled"
  | "not-https"
  | "private-address"
  | "too-many-redirects"
  | "not-a-video";

const RETRYABLE: ReadonlySet<DownloadFailure> = new Set(["http-status", "network", "timed-out", "too-slow"]);

export class DownloadError extends Error {
  readonly failure: DownloadFailure;
  readonly httpStatus: number | undefined;
  constructor(failure: DownloadFailure, message: string, options?: ErrorOptions & { httpStatus?: number }) {
    super(message, options);
    this.name = "DownloadError";
    this.failure = failure;
    this.httpStatus = options?.httpStatus;
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.failure);
  }
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Resolve like the default lookup, but refuse a host any of whose addresses is not public. */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, "", 4);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (addresses.length === 0 || blocked) {
      const refusal = Object.assign(new Error(`${hostname} resolves to a non-public address`), {
        code: "ERR_PRIVATE_ADDRESS",
      });
      return callback(refusal, "", 4);
    }
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    return callback(null, first.address, first.family);
  });
};

export interface VideoFetcherOptions {
  policy: DownloadPolicy;
  /** Origins (`scheme://host:port`) fetched without the https and public-address rules: the API's own. */
  trustedOrigins?: readonly string[];
}

export class VideoFetcher {
  readonly policy: DownloadPolicy;
  readonly #trusted: ReadonlySet<string>;
  readonly #public: Agent;
  readonly #trustedAgent: Agent;

  constructor(options: VideoFetcherOptions) {
    this.policy = options.policy;
    this.#trusted = new Set((options.trustedOrigins ?? []).map(originOf).filter((o) => o !== undefined));
    const idle = Math.min(30_000, options.policy.totalTimeoutMs);
    const common = { headersTimeout: idle, bodyTimeout: idle, keepAliveTimeout: 10_000 };
    this.#public = new Agent({ ...common, connect: { timeout: 10_000, lookup: publicOnlyLookup } });
    this.#trustedAgent = new Agent({ ...common, connect: { timeout: 10_000 } });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#public.close(), this.#trustedAgent.close()]);
  }

  /** Download `url` within the policy; `maxBytes` may lower the policy's size cap (an upload limit). */
  async fetch(url: string, options: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Download> {
    const maxBytes = Math.min(options.maxBytes ?? this.policy.maxBytes, this.policy.maxBytes);
    const controller = new AbortController();
    let why: DownloadFailure | undefined;
    const stop = (failure: DownloadFailure) => {
      why ??= failure;
      controller.abort(new Error(failure));
    };
    const total = setTimeout(() => stop("timed-out"), this.policy.totalTimeoutMs);
    const onCancel = () => stop("cancelled");
    if (options.signal?.aborted) onCancel();
    options.signal?.addEventListener("abort", onCancel, { once: true });
    try {
      return await this.#follow(url, maxBytes, controller.signal, stop);
    } catch (err) {
      if (why && !(err instanceof DownloadError && err.failure === why)) {
        throw new DownloadError(why, describe(why, this.policy), { cause: err });
      }
      throw err;
    } finally {
      clearTimeout(total);
      options.signal?.removeEventListener("abort", onCancel);
    }
  }

  async #follow(
    first: string,
    maxBytes: number,
    signal: AbortSignal,
    stop: (failure: DownloadFailure) => void,
  ): Promise<Download> {
    let current = first;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const { url, dispatcher } = this.#vet(current);
      let res: Dispatcher.ResponseData;
      try {
        res = await request(url, { dispatcher, method: "GET", signal, headers: { accept: "video/*" } });
      } catch (err) {
        const code = findCode(err);
        if (code === "ERR_PRIVATE_ADDRESS") {
          throw new DownloadError("private-address", `${url.hostname} is not a public address`, {
            cause: err,
          });
        }
        if (code === "UND_ERR_HEADERS_TIMEOUT") {
          throw new DownloadError("timed-out", "the video host did not answer in time", { cause: err });
        }
        throw new DownloadError("network", `could not reach the video host (${code ?? "network error"})`, {
          cause: err,
        });
      }
      // A body nobody reads must still be drained or destroyed, and its errors must have a listener.
      res.body.on("error", () => undefined);
      if (REDIRECT_STATUSES.has(res.statusCode)) {
        const location = header(res.headers.location);
        res.body.destroy();
        if (!location)
          throw new DownloadError("http-status", "a redirect without a location", {
            httpStatus: res.statusCode,
          });
        current = new URL(location, url).toString();
        continue;
      }
      if (res.statusCode !== 200) {
        res.body.destroy();
        throw new DownloadError("http-status", `the video host answered HTTP ${res.statusCode}`, {
          httpStatus: res.statusCode,
        });
      }
      return this.#read(res, maxBytes, stop);
    }
    throw new DownloadError("too-many-redirects", `more than ${MAX_REDIRECTS} redirects`);
  }

  /** The URL parsed and allowed, with the agent to fetch it through. */
  #vet(raw: string): { url: URL; dispatcher: Dispatcher } {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new DownloadError("not-https", "the video link is not a valid URL");
    }
    if (this.#trusted.has(url.origin)) return { url, dispatcher: this.#trustedAgent };
    if (url.protocol !== "https:") throw new DownloadError("not-https", "the video link is not https");
    if (url.username || url.password)
      throw new DownloadError("not-https", "the video link carries credentials");
    const host = url.hostname.replace(/^\[|\]$/g, "");
    // An address literal is connected to without a DNS lookup, so it is checked here.
    if (isIP(host) && !isPublicAddress(host)) {
      throw new DownloadError("private-address", "the video link names a non-public address");
    }
    return { url, dispatcher: this.#public };
  }

  async #read(
    res: Dispatcher.ResponseData,
    maxBytes: number,
    stop: (failure: DownloadFailure) => void,
  ): Promise<Download> {
    const declared = Number(header(res.headers["content-length"]));
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.body.destroy();
      return { kind: "too-large", size: declared };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let checked = false;
    const started = Date.now();
    const { graceMs, minBytesPerSecond } = this.policy;
    const progress = setInterval(
      () => {
        const elapsed = Date.now() - started;
        if (elapsed > graceMs && (size * 1000) / elapsed < minBytesPerSecond) stop("too-slow");
      },
      Math.max(50, Math.min(1_000, graceMs)),
    );
    try {
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > maxBytes) {
          res.body.destroy();
          return { kind: "too-large", size: Number.isFinite(declared) ? declared : undefined };
        }
        chunks.push(chunk as Buffer);
        // Refuse anything that is not a video as soon as its first bytes are in.
        if (!checked && size >= 12) {
          checked = true;
          if (brandOf(Buffer.concat(chunks, size))) continue;
          res.body.destroy();
          throw new DownloadError(
            "not-a-video",
            "the video host sent something that is not an MP4 or MOV file",
          );
        }
      }
    } catch (err) {
      if (err instanceof DownloadError) throw err;
      if (findCode(err) === "UND_ERR_BODY_TIMEOUT") {
        throw new DownloadError("timed-out", "the video host stopped sending", { cause: err });
      }
      throw new DownloadError("network", "the video download broke off", { cause: err });
    } finally {
      clearInterval(progress);
    }
    const data = Buffer.concat(chunks, size);
    const brand = brandOf(data);
    if (!brand)
      throw new DownloadError("not-a-video", "the video host sent something that is not an MP4 or MOV file");
    return brand === "mov"
      ? { kind: "file", data, contentType: "video/quicktime", extension: "mov" }
      : { kind: "file", data, contentType: "video/mp4", extension: "mp4" };
  }
}

/**
 * The file type by its first box: ISO base media files (MP4, MOV) begin with `size(4) "ftyp" brand(4)`.
 * QuickTime's brand is `qt  `; every other brand is delivered as MP4.
 */
export function brandOf(head: Buffer): "mp4" | "mov" | undefined {
  if (head.length < 12 || head.toString("latin1", 4, 8) !== "ftyp") return undefined;
  return head.toString("latin1", 8, 12) === "qt  " ? "mov" : "mp4";
}

function describe(failure: DownloadFailure, policy: DownloadPolicy): string {
  switch (failure) {
    case "timed-out":
      return `the download took longer than ${Math.round(policy.totalTimeoutMs / 1000)} s`;
    case "too-slow":
      return `the video host sent less than ${policy.minBytesPerSecond} bytes per second`;
    case "cancelled":
      return "the download was cancelled";
    default:
      return failure;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function originOf(value: string): string | undefined {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
}

function findCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
