import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { z } from "zod";
import { apiError, send } from "./answers.js";
import type { SimRoute } from "./api.js";

/** Injected faults: the rules, the queue they wait in, and acting them out on a request. */

/** One injected fault; it applies to the next `times` (default 1) requests of its route. */
export type FaultRule = { route?: SimRoute; times?: number } & (
  | { kind: "rate-limit"; retryAfter?: number | string | null }
  | { kind: "error"; status?: number; code?: string; message?: string; retryAfter?: number | string | null }
  /** Handle the request normally but answer `ms` later (the work, e.g. creating a task, is done at once). */
  | { kind: "delay"; ms: number }
  /** Never answer (until the simulator closes). */
  | { kind: "hang" }
  /** Read the request, then drop the connection without answering and without acting on it. */
  | { kind: "reset" }
  | { kind: "malformed"; body?: string; status?: number; contentType?: string }
);

const ruleBase = {
  route: z.enum(["generate", "status", "video", "any"]).optional(),
  times: z.number().int().min(1).optional(),
};

export const faultRuleSchema: z.ZodType<FaultRule> = z.union([
  z.object({
    ...ruleBase,
    kind: z.literal("rate-limit"),
    retryAfter: z.union([z.number(), z.string()]).nullish(),
  }),
  z.object({
    ...ruleBase,
    kind: z.literal("error"),
    status: z.number().int().min(400).max(599).optional(),
    code: z.string().optional(),
    message: z.string().optional(),
    retryAfter: z.union([z.number(), z.string()]).nullish(),
  }),
  z.object({
    ...ruleBase,
    kind: z.literal("delay"),
    ms: z.number().min(0),
  }),
  z.object({
    ...ruleBase,
    kind: z.enum(["hang", "reset"]),
  }),
  z.object({
    ...ruleBase,
    kind: z.literal("malformed"),
    body: z.string().optional(),
    status: z.number().int().min(100).max(599).optional(),
    contentType: z.string().optional(),
  }),
]) as z.ZodType<FaultRule>;

/** Faults waiting for their requests, first injected first used. */
export class FaultQueue {
  readonly #rules: (FaultRule & { left: number })[] = [];

  get size(): number {
    return this.#rules.length;
  }

  inject(rule: FaultRule): void {
    this.#rules.push({ ...rule, route: rule.route ?? "any", left: rule.times ?? 1 });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** The fault that applies to this request, used up by one; none for requests outside the API. */
  take(route: SimRoute | "other"): FaultRule | undefined {
    const rules = this.#rules;
    const index = rules.findIndex((f) => f.route === "any" || f.route === undefined || f.route === route);
    if (index < 0 || route === "other") return undefined;
    const fault = rules[index]!;
    fault.left -= 1;
    if (fault.left <= 0) rules.splice(index, 1);
    return fault;
  }
}

/** Answer (or drop, or leave hanging) a request in place of its route; a `delay` is the server's to apply. */
export function actOutFault(
  fault: Exclude<FaultRule, { kind: "delay" }>,
  req: IncomingMessage,
  res: ServerResponse,
  head: boolean,
): void {
  switch (fault.kind) {
    case "rate-limit": {
      const ra = fault.retryAfter === undefined ? "1" : fault.retryAfter;
      send(
        res,
        apiError(
          429,
          "RATE_LIMITED",
          "Too many requests: slow down.",
          ra === null ? {} : { "retry-after": String(ra) },
        ),
        head,
      );
      return;
    }
    case "error": {
      const status = fault.status ?? 500;
      const ra = fault.retryAfter;
      send(
        res,
        apiError(
          status,
          fault.code ?? (status >= 500 ? "INTERNAL_ERROR" : "INVALID_REQUEST"),
          fault.message ?? "Simulated error.",
          ra === undefined || ra === null ? {} : { "retry-after": String(ra) },
        ),
        head,
      );
      return;
    }
    case "malformed":
      send(
        res,
        {
          status: fault.status ?? 200,
          headers: { "content-type": fault.contentType ?? "application/json" },
          body: fault.body ?? '{"code":200,"message":"success","data":{"task_id":',
        },
        head,
      );
      return;
    case "reset": {
      const socket = req.socket as Socket & { resetAndDestroy?: () => void };
      if (socket.resetAndDestroy) socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    case "hang":
      return;
  }
}
