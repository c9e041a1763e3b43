import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SAMPLE_MP4 } from "../../src/kling-sim/sample-video.js";
import {
  aspectRatioOf,
  bundledFfmpeg,
  extractLastFrame,
  FrameError,
  pngSize,
} from "../../src/video/last-frame.js";

/**
 * The last frame of a clip, through the real ffmpeg the npm package ships. The simulator's sample clip is a
 * real H.264 MP4: 160×90, 1 s at 8 fps, so its last frame is frame 7.
 */

/** Decode an image or a chosen frame to raw RGB with ffmpeg itself, for a pixel-exact comparison. */
function rgb(input: Buffer, frameFilter?: string): Buffer {
  const args = ["-hide_banner", "-loglevel", "error", "-i", "pipe:0"];
  if (frameFilter) args.push("-vf", frameFilter, "-frames:v", "1");
  args.push("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
  const out = spawnSync(bundledFfmpeg(), args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(out.stderr.toString());
  return out.stdout;
}

describe("the last frame of a clip", () => {
  it("is a PNG of the clip's size whose pixels are the clip's final frame", async () => {
    const frame = await extractLastFrame(SAMPLE_MP4);
    expect(frame.width).toBe(160);
    expect(frame.height).toBe(90);
    expect(pngSize(frame.png)).toEqual({ width: 160, height: 90 });
    const last = rgb(SAMPLE_MP4, "select=eq(n\\,7)");
    const first = rgb(SAMPLE_MP4, "select=eq(n\\,0)");
    expect(last.length).toBe(160 * 90 * 3);
    expect(rgb(frame.png).equals(last)).toBe(true);
    expect(rgb(frame.png).equals(first)).toBe(false);
  });

  it("refuses what is not a video it can read, with ffmpeg's words", async () => {
    const err = await extractLastFrame(Buffer.from("this is not a video")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FrameError);
    expect((err as FrameError).message).toMatch(/ffmpeg/);
  });

  it("stops when asked", async () => {
    const stop = new AbortController();
    stop.abort();
    await expect(extractLastFrame(SAMPLE_MP4, { signal: stop.signal })).rejects.toBeInstanceOf(FrameError);
  });

  it("reads a PNG's size from its header, and nothing from anything else", () => {
    expect(pngSize(Buffer.from("GIF89a............................"))).toBeUndefined();
    expect(pngSize(Buffer.alloc(10))).toBeUndefined();
  });

  it("names the closest aspect ratio the API offers", () => {
    expect(aspectRatioOf(1920, 1080)).toBe("16:9");
    expect(aspectRatioOf(160, 90)).toBe("16:9");
    expect(aspectRatioOf(720, 1280)).toBe("9:16");
    expect(aspectRatioOf(1024, 1000)).toBe("1:1");
    expect(aspectRatioOf(1200, 1080)).toBe("1:1");
  });
});
