import { Agent, type Dispatcher, interceptors, request } from "undici";

/**
 * Fetch a finished video, streamed and capped: a file larger than the cap is never held in memory.
 * Result URLs are not promised to last, so the bot downloads promptly and links only as a fallback.
 */

export type Download =
  | { kind: "file"; data: Buffer; contentType: string }
  | { kind: "too-large"; size: number | undefined };

export class DownloadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DownloadError";
  }
}

export function createDownloadAgent(timeoutMs: number): Dispatcher {
  return new Agent({
    connect: { timeout: Math.min(timeoutMs, 10_000) },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 10_000,
  }).compose(interceptors.redirect({ maxRedirections: 5 }));
}

export async function downloadVideo(
  dispatcher: Dispatcher,
  url: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Download> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, { dispatcher, method: "GET", signal: signal ?? null });
  } catch (err) {
    throw new DownloadError(`could not fetch the video: ${(err as Error).message}`, { cause: err });
  }
  if (res.statusCode !== 200) {
    res.body.destroy();
    throw new DownloadError(`the video host answered HTTP ${res.statusCode}`);
  }
  const declared = Number(res.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.body.destroy();
    return { kind: "too-large", size: declared };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        res.body.destroy();
        return { kind: "too-large", size: Number.isFinite(declared) ? declared : undefined };
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw new DownloadError(`the video download broke off: ${(err as Error).message}`, { cause: err });
  }
  const type = res.headers["content-type"];
  return {
    kind: "file",
    data: Buffer.concat(chunks, size),
    contentType: (Array.isArray(type) ? type[0] : type) ?? "video/mp4",
  };
}
