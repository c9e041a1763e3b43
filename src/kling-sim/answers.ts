import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";

/** The simulator's HTTP answers: JSON, the documented error envelope, and writing any answer out. */

export type Answer = {
  status: number;
  headers?: Record<string, string>;
  body: string | Readable;
  length?: number;
};

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Answer {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

export function apiError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Answer {
  return json(status, { code: status, message: `${code}: ${message}`, error: { code, message } }, headers);
}

export function success(data: unknown): Answer {
  return json(200, { code: 200, message: "success", data });
}

export function send(res: ServerResponse, answer: Answer, head: boolean): void {
  if (res.destroyed) return;
  const headers: Record<string, string | number> = { ...answer.headers };
  if (typeof answer.body === "string") headers["content-length"] = Buffer.byteLength(answer.body);
  else if (answer.length !== undefined) headers["content-length"] = answer.length;
  res.writeHead(answer.status, headers);
  if (head) {
    if (typeof answer.body !== "string") answer.body.destroy();
    res.end();
  } else if (typeof answer.body === "string") {
    res.end(answer.body);
  } else {
    answer.body.on("error", () => res.destroy());
    answer.body.pipe(res);
  }
}
