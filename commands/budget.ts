import { guildCommand, subcommand } from "./define.js";

export const BudgetShow = subcommand({
  name: "show",
  description: "This server's video credits, your own spending and the jobs in flight",
  description_localizations: { ja: "サーバーの動画クレジット、あなたの利用、進行中のジョブを表示します" },
  options: [],
});

export const BudgetCommand = guildCommand({
  name: "budget",
  description: "The server's shared video credits",
  description_localizations: { ja: "サーバーで共有する動画クレジット" },
  options: [BudgetShow],
});
