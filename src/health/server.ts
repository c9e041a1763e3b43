import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Health } from "./health.js";

/**
 * `GET /healthz` and `GET /metrics` on `METRICS_HOST:METRICS_PORT`, with node:http: two read-only endpoints
 * need no framework. Started before the rest of the process, so a health check answers "starting" (503)
 * during start-up instead of failing to connect.
 */

export interface ServiceServer {
  /** The address the server listens on (the real port when 0 was asked). */
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export interface ServiceServerOptions {
  host: string;
  port: number;
  health: Health;
  metrics: Metrics;
  logger: Logger;
}

export async function startServiceServer(options: ServiceServerOptions): Promise<ServiceServer> {
  const { health, metrics, logger } = options;
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      logger.error({ err, path: req.url }, "health/metrics request failed");
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });
  // Scrapers and probes keep connections short; an idle one must not keep the process from stopping.
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 10_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/healthz" && path !== "/metrics") {
      send(res, 404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    if (path === "/healthz") {
      const report = await health.check();
      send(res, report.ok ? 200 : 503, "application/json; charset=utf-8", `${JSON.stringify(report)}\n`);
      return;
    }
    send(res, 200, metrics.contentType, await metrics.render());
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => logger.error({ err }, "health/metrics server error"));
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  logger.info({ host: address.address, port: address.port }, "health and metrics listening");
  return {
    host: address.address,
    port: address.port,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
