import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { request } from "undici";

/**
 * Misbehaving servers on loopback, for tests of what the bot does when the API or its video host turns
 * hostile: a video host with a handler per request, and a proxy in front of the API that can rewrite answers
 * after the API acted on the request.
 */

export interface LoopbackServer {
  readonly url: string;
  readonly port: number;
  /** Requests seen, as `METHOD /path`. */
  readonly seen: string[];
  close(): Promise<void>;
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<{ server: Server; url: string; port: number; sockets: Set<Socket>; seen: string[] }> {
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    Promise.resolve(handler(req, res)).catch(() => res.destroy());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port, sockets, seen };
}

function closer(server: Server, sockets: Set<Socket>) {
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

export type VideoHostHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A video host whose answer is decided per request by `handler`. */
export async function startVideoHost(handler: VideoHostHandler): Promise<LoopbackServer> {
  const { server, url, port, sockets, seen } = await listen(handler);
  return { url, port, seen, close: closer(server, sockets) };
}

/** Sends `head` at once, then one byte every `everyMs` until the client goes away. */
export function trickle(res: ServerResponse, head: Buffer, everyMs: number): void {
  res.writeHead(200, { "content-type": "video/mp4", "content-length": String(head.length + 10_000_000) });
  res.write(head);
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(Buffer.from([0]));
  }, everyMs);
  res.on("close", () => clearInterval(timer));
}

export interface ProxiedAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A proxy in front of `target`: every request is forwarded and acted on; `rewrite` may then replace the
 * answer (return undefined to pass it through).
 */
export async function startRewritingProxy(
  target: string,
  rewrite: (req: { method: string; path: string }, answer: ProxiedAnswer) => ProxiedAnswer | undefined,
): Promise<LoopbackServer> {
  const { server, url, port, sockets, seen } = await listen(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && k !== "host" && k !== "connection" && k !== "content-length")
        headers[k] = String(v);
    }
    const method = req.method ?? "GET";
    const upstream = await request(`${target}${req.url}`, {
      method: method as "GET",
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const answer: ProxiedAnswer = {
      status: upstream.statusCode,
      headers: { "content-type": String(upstream.headers["content-type"] ?? "application/json") },
      body: await upstream.body.text(),
    };
    const out = rewrite({ method, path: (req.url ?? "/").split("?")[0]! }, answer) ?? answer;
    res.writeHead(out.status, out.headers);
    res.end(out.body);
  });
  return { url, port, seen, close: closer(server, sockets) };
}
