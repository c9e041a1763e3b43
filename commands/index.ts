import { BudgetCommand } from "./budget.js";
import type { CommandDef } from "./define.js";
import { VideoCommand } from "./video.js";

export { BudgetCommand } from "./budget.js";
export * from "./define.js";
export * from "./video.js";

/** Every command the bot registers. */
export const COMMANDS: readonly CommandDef[] = [VideoCommand, BudgetCommand];
