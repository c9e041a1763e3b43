import type { IncomingMessage } from "node:http";
import type { SimRoute } from "./api.js";
import type { FaultRule } from "./faults.js";

/** The log of API and video requests that tests read back. */

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

interface RequestSeen {
  req: IncomingMessage;
  url: URL;
  route: SimRoute | "other";
  apiKey: string;
  body: unknown;
  rawBody: string;
  at: number;
  fault: FaultRule | undefined;
}

/** The request as recorded: its key checked, then redacted. */
export function recordOf({
  req,
  url,
  route,
  apiKey,
  body,
  rawBody,
  at,
  fault,
}: RequestSeen): RecordedRequest {
  const auth = req.headers.authorization ?? "";
  const authorized = /^bearer\s+/i.test(auth) && auth.replace(/^bearer\s+/i, "") === apiKey;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = name === "authorization" ? `${auth.split(/\s+/)[0] ?? ""} [redacted]` : String(value);
  }
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    route,
    headers,
    authorized,
    body,
    rawBody,
    at,
    ...(fault ? { fault: fault.kind } : {}),
  };
}
