import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { spawnTs } from "./db.js";

/** A TypeScript fixture run in a child process, with its stdout read line by line. */
export class FixtureProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private stderr = "";
  private waiters: (() => void)[] = [];

  constructor(script: string, arg?: unknown, env: Record<string, string | undefined> = {}) {
    this.proc = spawnTs(script, arg === undefined ? [] : [JSON.stringify(arg)], env);
    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => {
        resolve({ code, signal });
        this.wake();
      });
    });
    createInterface({ input: this.proc.stdout! }).on("line", (line) => {
      this.lines.push(line);
      this.wake();
    });
    this.proc.stderr!.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolve once a line (or the lines so far) satisfy the predicate; fail if the child exits first. */
  async waitFor(
    predicate: (lines: readonly string[]) => boolean,
    what: string,
    timeoutMs = 25_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.lines)) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(
          `fixture exited before ${what}; stdout: ${this.lines.join(" | ")}; stderr: ${this.stderr}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForLine(line: string, timeoutMs?: number): Promise<void> {
    return this.waitFor((lines) => lines.includes(line), `"${line}"`, timeoutMs);
  }

  send(line: string): void {
    this.proc.stdin!.write(`${line}\n`);
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.proc.kill(signal);
  }

  /** Kill the child if it still runs and wait until it has been reaped. */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
    await this.exited;
  }
}
