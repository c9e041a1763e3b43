import { KlingCancelledError } from "./errors.js";

/** One API call as the wire sees it. `creates`: it makes a task, so repeating it could charge twice. */
export type Operation = {
  method: "GET" | "POST";
  path: string;
  body?: string;
  creates: boolean;
  label: string;
};

export function cancelledError(op: Operation, sent: boolean, cause: unknown): KlingCancelledError {
  return new KlingCancelledError({
    message: `Kling ${op.label} was cancelled ${sent ? "after" : "before"} the request was sent`,
    maybeSubmitted: op.creates && sent,
    cause,
  });
}
