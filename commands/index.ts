import { AnimateCommand } from "./animate.js";
import { BudgetCommand } from "./budget.js";
import { type CommandDef, type MessageCommandDef, toRegistrationBody } from "./define.js";
import { VideoCommand } from "./video.js";

export { AnimateCommand } from "./animate.js";
export { BudgetCommand } from "./budget.js";
export * from "./define.js";
export * from "./video.js";

/** Every slash command the bot registers. */
export const COMMANDS: readonly CommandDef[] = [VideoCommand, BudgetCommand];
/** Every message context-menu command the bot registers. */
export const MESSAGE_COMMANDS: readonly MessageCommandDef[] = [AnimateCommand];

/** What is registered with Discord: the slash commands, then the context-menu commands. */
export function registrationBodies() {
  return [
    ...COMMANDS.map((c) => toRegistrationBody(c)),
    ...MESSAGE_COMMANDS.map((c) => toRegistrationBody(c)),
  ];
}
