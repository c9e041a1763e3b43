import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ASPECT_RATIOS, type AspectRatio } from "./limits.js";

/**
 * The last frame of a clip as a PNG, for "Continue" (the start of the next clip) and "Use as reference". ffmpeg
 * runs as a child process with its arguments as a list (never through a shell) on a copy of the clip in a
 * private temporary folder, which is removed afterwards.
 */

export interface Frame {
  png: Buffer;
  width: number;
  height: number;
}

/** ffmpeg did not give a frame: the clip is not a video it can read, or it failed or took too long. */
export class FrameError extends Error {
  readonly code = "FRAME_FAILED" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
  }
}

/**
 * The ffmpeg binary the npm package `@ffmpeg-installer/ffmpeg` ships, looked up when first needed: the package
 * throws when loaded on a platform it has no binary for, which must not stop the bot from starting.
 */
export function bundledFfmpeg(): string {
  const require = createRequire(import.meta.url);
  return (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
}

export interface FrameOptions {
  ffmpegPath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Seek to shortly before the end and read the frames left backwards: the first one out is the clip's last.
 * Only that window is decoded and buffered, so a long clip costs no more than a short one. A clip without a
 * frame in the last half second (a very low frame rate) is read over a longer window.
 */
const WINDOWS_S = [0.5, 3];

export async function extractLastFrame(video: Buffer, options: FrameOptions = {}): Promise<Frame> {
  const ffmpeg = options.ffmpegPath ?? bundledFfmpeg();
  const dir = await mkdtemp(join(tmpdir(), "kling-frame-"));
  try {
    const input = join(dir, "clip");
    const output = join(dir, "last.png");
    await writeFile(input, video);
    for (const window of WINDOWS_S) {
      await run(
        ffmpeg,
        [
          ...["-hide_banner", "-loglevel", "error", "-nostdin"],
          ...["-sseof", `-${window}`, "-i", input],
          ...["-map", "0:v:0", "-an", "-vf", "reverse", "-frames:v", "1"],
          ...["-f", "image2", "-c:v", "png", "-y", output],
        ],
        options,
      );
      const png = await readFile(output).catch(() => undefined);
      const size = png && pngSize(png);
      if (png && size) return { png, ...size };
    }
    throw new FrameError("ffmpeg found no frame in the clip");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run ffmpeg to its end; its own words (the last of them) go into the error when it fails. */
function run(command: string, args: string[], options: FrameOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], signal: options.signal });
    let said = "";
    child.stderr.on("data", (chunk: Buffer) => {
      said = (said + chunk.toString("utf8")).slice(-2_000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new FrameError(`could not run ffmpeg: ${err.message}`, { cause: err }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new FrameError(`ffmpeg ended with ${signal ?? `code ${code}`}: ${said.trim()}`));
    });
  });
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG's size from its header (the IHDR chunk comes first), or undefined for anything that is not a PNG. */
export function pngSize(data: Buffer): { width: number; height: number } | undefined {
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  if (data.toString("latin1", 12, 16) !== "IHDR") return undefined;
  const width = data.readUInt32BE(16);
  const height = data.readUInt32BE(20);
  return width > 0 && height > 0 ? { width, height } : undefined;
}

/** The aspect ratio the API offers that is closest to a frame's shape. */
export function aspectRatioOf(width: number, height: number): AspectRatio {
  const shape = Math.log(width / height);
  const distance = (r: AspectRatio) => {
    const [w, h] = r.split(":").map(Number) as [number, number];
    return Math.abs(Math.log(w / h) - shape);
  };
  return [...ASPECT_RATIOS].sort((a, b) => distance(a) - distance(b))[0]!;
}
