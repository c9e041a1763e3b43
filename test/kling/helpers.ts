import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "../../src/log.js";

/** A throw-away HTTP server on loopback for answers the simulator cannot give. */
export interface AdHocServer {
  url: string;
  port: number;
  hits: { method: string; url: string; body: string }[];
  close(): Promise<void>;
}

export async function startAdHocServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<AdHocServer> {
  const hits: AdHocServer["hits"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      hits.push({ method: req.method ?? "", url: req.url ?? "", body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A loopback port nothing listens on (bound, then released), so connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real logger whose JSON records are kept for assertions. */
export function captureLogger(level = "debug"): {
  logger: Logger;
  records: Record<string, unknown>[];
  text: () => string;
} {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    destination: { write: (msg: string) => lines.push(...msg.split("\n").filter(Boolean)) },
  });
  return {
    logger,
    get records() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    text: () => lines.join("\n"),
  };
}

export function json(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(value));
}
