import { z } from "zod";
import { type Answer, apiError, json } from "./answers.js";
import { type FaultQueue, faultRuleSchema } from "./faults.js";
import type { RecordedRequest } from "./requests.js";
import type { SimAccount, TaskOutcome } from "./tasks.js";

/** The control endpoints under /_sim/: read and reset what the simulator saw, steer balance, faults and tasks. */

interface ControlTarget {
  account: SimAccount;
  faults: FaultQueue;
  requests: RecordedRequest[];
}

export function answerControl(sim: ControlTarget, method: string, path: string, body: unknown): Answer {
  const { account, faults, requests } = sim;
  const obj = (body ?? {}) as Record<string, unknown>;
  switch (`${method} ${path}`) {
    case "GET /_sim/health":
      return json(200, { ok: true });
    case "GET /_sim/requests":
      return json(200, requests);
    case "DELETE /_sim/requests":
      requests.length = 0;
      return json(200, { ok: true });
    case "GET /_sim/tasks":
      account.settle();
      return json(200, [...account.tasks.values()]);
    case "GET /_sim/balance":
      account.settle();
      return json(200, { balance: account.balance });
    case "POST /_sim/balance": {
      const n = obj.balance;
      if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
        return apiError(400, "INVALID_REQUEST", "Send { balance: <credits ≥ 0> }.");
      }
      account.balance = n;
      return json(200, { balance: account.balance });
    }
    case "POST /_sim/fail-next": {
      const parsed = faultRuleSchema.safeParse({ kind: "error", ...obj });
      if (!parsed.success) return apiError(400, "INVALID_REQUEST", z.prettifyError(parsed.error));
      faults.inject(parsed.data);
      return json(200, { ok: true, faults: faults.size });
    }
    case "POST /_sim/faults/clear":
      faults.clear();
      return json(200, { ok: true });
    case "POST /_sim/finish": {
      const id = obj.task_id;
      if (typeof id !== "string" || !account.tasks.has(id))
        return apiError(404, "TASK_NOT_FOUND", "Send { task_id, outcome? }.");
      account.finish(id, obj.outcome as TaskOutcome | undefined);
      return json(200, { ok: true });
    }
    default:
      return apiError(404, "NOT_FOUND", `No control endpoint ${method} ${path}.`);
  }
}
