import { randomBytes } from "node:crypto";
import { familyOf, type TaskType } from "../kling/types.js";

/** The simulated account: its tasks, how each one ends, and the balance they draw on. */

/** How a task ends. Strings are shorthands; the object form sets the raw fields of the final status. */
export type TaskOutcome =
  | "success"
  | "completed"
  | "failed"
  | "expired"
  | { failed: string }
  | {
      status: string;
      /** Video URLs; default: the simulator's own video URL for SUCCESS/COMPLETED, none otherwise. */
      response?: string[];
      errorMessage?: string | null;
      failedReason?: string;
      /** A failed or expired task keeps its charge (reports `consumed_credits` > 0) instead of a refund. */
      keepCharge?: boolean;
      /** Overrides `taskDurationMs` for this task. */
      durationMs?: number;
    };

/** Prompt markers that choose a task's outcome when no `outcome` function decides. */
export const PROMPT_MARKERS: Readonly<Record<string, TaskOutcome>> = Object.freeze({
  "[fail]": { failed: "Simulated failure: the prompt contains [fail]." },
  "[fail-reason]": {
    status: "FAILED",
    errorMessage: null,
    failedReason: "Simulated failure reported in failed_reason.",
  },
  "[fail-charged]": {
    status: "FAILED",
    errorMessage: "Simulated failure that the account was still charged for.",
    keepCharge: true,
  },
  "[expire]": "expired",
  "[completed]": "completed",
  "[unknown-status]": { status: "MYSTERY_STATE" },
  "[no-url]": { status: "SUCCESS", response: [] },
});

export interface SimTask {
  readonly id: string;
  readonly type: TaskType;
  /** The JSON body of the generate request that made it. */
  readonly request: Record<string, unknown>;
  readonly price: number;
  readonly createdAt: number;
  /** When it leaves IN_PROGRESS; `finish()` moves it to now. */
  doneAt: number;
  end: {
    status: string;
    response: string[];
    errorMessage: string | null;
    failedReason?: string;
    /** Not refunded when it fails: `consumed_credits` keeps the price. */
    keepCharge?: boolean;
  };
  refunded: boolean;
}

/** Task id prefixes by family, as the documented ids have them. */
export const TASK_ID_PREFIX = { kling3: "n75", o3: "n71" } as const;

interface SimAccountOptions {
  balance: number;
  taskDurationMs: number;
  now: () => number;
  outcome?: ((body: Record<string, unknown>) => TaskOutcome | undefined) | undefined;
  videoUrl: (taskId: string) => string;
}

export class SimAccount {
  readonly tasks = new Map<string, SimTask>();
  /** Credits left, without the refunds of tasks that failed since the last `settle()`. */
  balance: number;
  readonly now: () => number;
  readonly #options: SimAccountOptions;

  constructor(options: SimAccountOptions) {
    this.#options = options;
    this.balance = options.balance;
    this.now = options.now;
  }

  /** Give back the credits of tasks that have ended in failure (unless their outcome keeps the charge). */
  settle(): void {
    const t = this.now();
    for (const task of this.tasks.values()) {
      if (
        !task.refunded &&
        !task.end.keepCharge &&
        t >= task.doneAt &&
        (task.end.status === "FAILED" || task.end.status === "EXPIRED")
      ) {
        task.refunded = true;
        this.balance += task.price;
      }
    }
  }

  /** Debit `price` and start a task; it ends as the `outcome` option, a prompt marker, or success decides. */
  create(type: TaskType, body: Record<string, unknown>, price: number): SimTask {
    this.balance -= price;
    const id = `${TASK_ID_PREFIX[familyOf(type)]}${randomBytes(8).toString("hex")}`;
    const chosen = this.#options.outcome?.(body) ?? outcomeFromPrompt(body) ?? "success";
    const { durationMs, ...end } = endFor(chosen, this.#options.videoUrl(id));
    const createdAt = this.now();
    const task: SimTask = {
      id,
      type,
      request: body,
      price,
      createdAt,
      doneAt: createdAt + (durationMs ?? this.#options.taskDurationMs),
      end,
      refunded: false,
    };
    this.tasks.set(id, task);
    return task;
  }

  /** End a task now, optionally with another outcome. */
  finish(taskId: string, outcome?: TaskOutcome): void {
    const task = this.tasks.get(taskId);
    if (!task) throw new Error(`no simulated task ${taskId}`);
    if (outcome !== undefined) {
      const { durationMs: _ignored, ...end } = endFor(outcome, this.#options.videoUrl(taskId));
      task.end = end;
    }
    task.doneAt = Math.min(task.doneAt, this.now());
  }
}

function endFor(outcome: TaskOutcome, videoUrl: string): SimTask["end"] & { durationMs?: number } {
  if (outcome === "success") return { status: "SUCCESS", response: [videoUrl], errorMessage: null };
  if (outcome === "completed") return { status: "COMPLETED", response: [videoUrl], errorMessage: null };
  if (outcome === "failed") return { status: "FAILED", response: [], errorMessage: "Simulated failure." };
  if (outcome === "expired") {
    return { status: "EXPIRED", response: [], errorMessage: null, failedReason: "The task expired." };
  }
  if ("failed" in outcome) return { status: "FAILED", response: [], errorMessage: outcome.failed };
  const succeeded = outcome.status === "SUCCESS" || outcome.status === "COMPLETED";
  return {
    status: outcome.status,
    response: outcome.response ?? (succeeded ? [videoUrl] : []),
    errorMessage: outcome.errorMessage ?? null,
    ...(outcome.failedReason === undefined ? {} : { failedReason: outcome.failedReason }),
    ...(outcome.keepCharge ? { keepCharge: true } : {}),
    ...(outcome.durationMs === undefined ? {} : { durationMs: outcome.durationMs }),
  };
}

function outcomeFromPrompt(body: Record<string, unknown>): TaskOutcome | undefined {
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  for (const [marker, outcome] of Object.entries(PROMPT_MARKERS)) if (prompt.includes(marker)) return outcome;
  return undefined;
}
