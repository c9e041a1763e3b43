/** Expected ledger failures, with a machine-readable code. */

type LedgerErrorCode =
  | "invalid_amount"
  | "job_not_found"
  | "no_hold"
  | "already_captured"
  | "already_released";

export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string) {
    super(message);
    this.name = "LedgerError";
    this.code = code;
  }
}

export function requireInteger(value: number, what: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LedgerError(
      "invalid_amount",
      `${what} must be a whole number of at least ${min}, got ${value}`,
    );
  }
}

export function jobNotFound(guildId: string, jobId: number): LedgerError {
  return new LedgerError("job_not_found", `Job ${jobId} does not exist in guild ${guildId}`);
}
