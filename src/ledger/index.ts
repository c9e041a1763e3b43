/**
 * The credit ledger: every change to a guild's balance is one append-only row whose `amount` is that
 * change, written in the same statement or transaction as the balance update. So a guild's balance always
 * equals the sum of its ledger (`checkInvariants` proves it), and the balance never goes below zero (a
 * conditional update, and a CHECK constraint underneath).
 *
 * Every function takes the guild id and filters by it: a job of another guild is "not found". Two go over
 * every guild on purpose: `topUpAllowances` (the monthly schedule) and `listGuilds` (the operators' tool).
 */

export { allowanceMonth, nextTopUp, setAllowance, topUpAllowances } from "./allowance.js";
export { getBalance } from "./balance.js";
export { balanceAfterCapture, captureCredits } from "./capture.js";
export { LedgerError } from "./errors.js";
export { grantCredits } from "./grant.js";
export { ensureGuild, ensureGuilds, type LockedGuild, lockGuildForJob } from "./guild.js";
export { type LedgerLine, ledgerPage, listGuilds, MAX_LEDGER_PAGE } from "./history.js";
export { checkInvariants } from "./invariants.js";
export { releaseCredits } from "./release.js";
export { holdForNewJob, reserveCredits } from "./reserve.js";
export { getSpending } from "./spending.js";
export { getUsage } from "./usage.js";
