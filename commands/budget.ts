import { guildCommand, subcommand } from "./define.js";

export const BudgetShow = subcommand({
  name: "show",
  description: "This server's video credits, your own spending and the jobs in flight",
  options: [],
});

export const BudgetCommand = guildCommand({
  name: "budget",
  description: "The server's shared video credits",
  options: [BudgetShow],
});
