import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brandOf, type DownloadPolicy, VideoFetcher } from "../../src/jobs/download.js";
import { SAMPLE_MP4 } from "../../src/kling-sim/sample-video.js";
import { type LoopbackServer, startVideoHost, trickle } from "../helpers/hostile.js";

/** The video fetcher against real servers on loopback that misbehave in every way a video host can. */

const POLICY: DownloadPolicy = {
  maxBytes: 10 * 1024 * 1024,
  totalTimeoutMs: 3_000,
  minBytesPerSecond: 1_000,
  graceMs: 300,
};

let host: LoopbackServer;
let other: LoopbackServer;

beforeAll(async () => {
  other = await startVideoHost((_req, res) => {
    res.writeHead(200, { "content-type": "video/mp4" });
    res.end(SAMPLE_MP4);
  });
  host = await startVideoHost((req, res) => {
    const path = req.url ?? "/";
    if (path === "/video.mp4") {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      return void res.end(SAMPLE_MP4);
    }
    if (path === "/clip.mov") {
      const mov = Buffer.from(SAMPLE_MP4);
      mov.write("qt  ", 8, "latin1");
      res.writeHead(200, { "content-type": "video/quicktime" });
      return void res.end(mov);
    }
    const status = /^\/status\/(\d+)$/.exec(path);
    if (status) {
      res.writeHead(Number(status[1]), { "content-type": "text/plain" });
      return void res.end("no");
    }
    if (path === "/html") {
      res.writeHead(200, { "content-type": "video/mp4" });
      return void res.end("<!doctype html><html><body>Sign in</body></html>");
    }
    if (path === "/tiny") {
      res.writeHead(200, { "content-type": "video/mp4" });
      return void res.end("ftyp");
    }
    if (path === "/trickle") return trickle(res, SAMPLE_MP4.subarray(0, 64), 200);
    if (path === "/stall") {
      res.writeHead(200, { "content-type": "video/mp4" });
      return void res.write(SAMPLE_MP4.subarray(0, 64));
    }
    const redirect = /^\/redirect\?to=(.+)$/.exec(path);
    if (redirect) {
      res.writeHead(302, { location: decodeURIComponent(redirect[1]!) });
      return void res.end();
    }
    if (path === "/loop") {
      res.writeHead(302, { location: "/loop" });
      return void res.end();
    }
    res.writeHead(404);
    res.end();
  });
});

afterAll(async () => {
  await host.close();
  await other.close();
});

function fetcher(policy: Partial<DownloadPolicy> = {}) {
  return new VideoFetcher({ policy: { ...POLICY, ...policy }, trustedOrigins: [host.url] });
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return err as { failure: string; httpStatus?: number; retryable: boolean; message: string };
  }
  throw new Error("expected the download to fail");
}

describe("the video fetcher", () => {
  it("returns an MP4 by its ftyp box, whatever the Content-Type says", async () => {
    const f = fetcher();
    const dl = await f.fetch(`${host.url}/video.mp4`);
    expect(dl).toMatchObject({ kind: "file", contentType: "video/mp4", extension: "mp4" });
    await f.close();
  });

  it("tells a QuickTime file by its brand", async () => {
    const f = fetcher();
    expect(await f.fetch(`${host.url}/clip.mov`)).toMatchObject({ kind: "file", extension: "mov" });
    await f.close();
  });

  it.each([404, 403, 410, 500])("answers HTTP %i with an error, never a crash", async (code) => {
    const f = fetcher();
    const err = await failure(f.fetch(`${host.url}/status/${code}`));
    expect(err).toMatchObject({ failure: "http-status", httpStatus: code, retryable: true });
    await f.close();
  });

  it("refuses an HTML page served with 200 and a video Content-Type", async () => {
    const f = fetcher();
    expect(await failure(f.fetch(`${host.url}/html`))).toMatchObject({
      failure: "not-a-video",
      retryable: false,
    });
    expect(await failure(f.fetch(`${host.url}/tiny`))).toMatchObject({ failure: "not-a-video" });
    await f.close();
  });

  it("refuses plain http and non-public addresses of hosts it does not trust, without connecting", async () => {
    const f = fetcher();
    const before = other.seen.length;
    expect(await failure(f.fetch(`${other.url}/v.mp4`))).toMatchObject({ failure: "not-https" });
    for (const url of [
      `https://127.0.0.1:${other.port}/v.mp4`,
      `https://[::1]:${other.port}/v.mp4`,
      "https://169.254.169.254/latest/meta-data/",
      "https://10.1.2.3/v.mp4",
      "https://2130706433/v.mp4",
      `https://[::ffff:127.0.0.1]:${other.port}/v.mp4`,
    ]) {
      expect(await failure(f.fetch(url)), url).toMatchObject({
        failure: "private-address",
        retryable: false,
      });
    }
    expect(other.seen.length).toBe(before);
    await f.close();
  });

  it("checks the resolved address of a host name (localhost resolves to loopback)", async () => {
    const f = fetcher();
    const err = await failure(f.fetch(`https://localhost:${other.port}/v.mp4`));
    expect(err).toMatchObject({ failure: "private-address" });
    await f.close();
  });

  it("checks every redirect hop: a trusted host that redirects to an internal one is refused", async () => {
    const f = fetcher();
    const before = other.seen.length;
    for (const to of [
      `${other.url}/v.mp4`,
      `https://127.0.0.1:${other.port}/v.mp4`,
      `https://localhost:${other.port}/v.mp4`,
    ]) {
      const err = await failure(f.fetch(`${host.url}/redirect?to=${encodeURIComponent(to)}`));
      expect(["not-https", "private-address"], to).toContain(err.failure);
    }
    expect(other.seen.length).toBe(before);
    // A redirect within the trusted origin is followed.
    const ok = await f.fetch(`${host.url}/redirect?to=${encodeURIComponent("/video.mp4")}`);
    expect(ok.kind).toBe("file");
    expect(await failure(f.fetch(`${host.url}/loop`))).toMatchObject({ failure: "too-many-redirects" });
    await f.close();
  });

  it("gives up on a host that trickles bytes, by minimum progress", async () => {
    const f = fetcher({ totalTimeoutMs: 60_000 });
    const started = Date.now();
    const err = await failure(f.fetch(`${host.url}/trickle`));
    expect(err).toMatchObject({ failure: "too-slow", retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
    await f.close();
  });

  it("gives up on a host that stops sending, by total time", async () => {
    const f = fetcher({ minBytesPerSecond: 0, totalTimeoutMs: 800 });
    const err = await failure(f.fetch(`${host.url}/stall`));
    expect(err).toMatchObject({ failure: "timed-out", retryable: true });
    await f.close();
  });

  it("stops at once when the process stops", async () => {
    const f = fetcher({ minBytesPerSecond: 0, totalTimeoutMs: 60_000 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 200);
    const started = Date.now();
    const err = await failure(f.fetch(`${host.url}/stall`, { signal: stop.signal }));
    expect(err).toMatchObject({ failure: "cancelled" });
    expect(Date.now() - started).toBeLessThan(2_000);
    await f.close();
  });

  it("reports a file above the cap as too large without reading it all", async () => {
    const f = fetcher();
    expect(await f.fetch(`${host.url}/video.mp4`, { maxBytes: 100 })).toMatchObject({ kind: "too-large" });
    await f.close();
  });

  it("reads brands", () => {
    expect(brandOf(SAMPLE_MP4)).toBe("mp4");
    expect(brandOf(Buffer.from("<html><body>"))).toBeUndefined();
  });
});
