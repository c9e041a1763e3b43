import { ApplicationCommandOptionType as T } from "discord.js";
import { ja } from "../src/i18n/ja.js";
import { MODEL_LABELS, MODELS } from "../src/video/limits.js";
import { type ArgumentsOf, guildCommand, subcommand, subcommandGroup, type ValueOption } from "./define.js";

/** `/budget`: everyone may look; managers govern how the credits are shared; operators create credits. */

export const BudgetShow = subcommand({
  name: "show",
  description: "This server's video credits, your own spending and the jobs in flight",
  description_localizations: { ja: "サーバーの動画クレジット、あなたの利用、進行中のジョブを表示します" },
  options: [],
});

const guildIdOption = {
  type: T.String,
  name: "guild_id",
  description: "Server id (default: this server)",
  description_localizations: { ja: "サーバー ID（省略時はこのサーバー）" },
  min_length: 17,
  max_length: 20,
} as const;

export const BudgetGrant = subcommand({
  name: "grant",
  description: "Operators: add credits, or remove them with a negative number",
  description_localizations: { ja: "運営者用：クレジットを追加（マイナスで削減）します" },
  options: [
    {
      type: T.Integer,
      name: "credits",
      description: "Credits to add (negative: to remove)",
      description_localizations: { ja: "追加するクレジット（マイナスで削減）" },
      required: true,
      min_value: -1_000_000_000,
      max_value: 1_000_000_000,
    },
    {
      type: T.String,
      name: "reason",
      description: "Why (kept in the ledger)",
      description_localizations: { ja: "理由（台帳に記録されます）" },
      required: true,
      min_length: 1,
      max_length: 200,
    },
    guildIdOption,
  ],
});

export const BudgetAllowance = subcommand({
  name: "allowance",
  description: "Operators: the balance is topped up to this at the start of each month (0: off)",
  description_localizations: { ja: "運営者用：毎月 1 日に残高をこの額まで補充します（0 でオフ）" },
  options: [
    {
      type: T.Integer,
      name: "credits",
      description: "Monthly allowance in credits (0 turns it off)",
      description_localizations: { ja: "毎月の割り当て（0 でオフ）" },
      required: true,
      min_value: 0,
      max_value: 1_000_000_000,
    },
    guildIdOption,
  ],
});

const modelChoices = MODELS.map((m) => ({
  name: MODEL_LABELS[m],
  name_localizations: { ja: ja[`model.${m}`] },
  value: m,
}));

export const BudgetConfig = subcommand({
  name: "config",
  description: "Managers: show or change how members may spend the server's credits",
  description_localizations: { ja: "管理者用：クレジットの使い方の設定を表示・変更します" },
  options: [
    {
      type: T.Integer,
      name: "daily_cap",
      description: "Credits one member may spend per UTC day (0: no cap)",
      description_localizations: { ja: "1 人が 1 日（UTC）に使えるクレジット（0 で上限なし）" },
      min_value: 0,
      max_value: 1_000_000_000,
    },
    {
      type: T.Integer,
      name: "member_jobs",
      description: "A member's jobs in flight at once (default 2)",
      description_localizations: { ja: "1 人が同時に進められるジョブ数（既定 2）" },
      min_value: 1,
      max_value: 50,
    },
    {
      type: T.Integer,
      name: "server_jobs",
      description: "The server's jobs in flight at once (default 10)",
      description_localizations: { ja: "サーバー全体で同時に進められるジョブ数（既定 10）" },
      min_value: 1,
      max_value: 500,
    },
    {
      type: T.Integer,
      name: "max_duration",
      description: "Longest video members may ask for, in seconds",
      description_localizations: { ja: "作れる動画の最長秒数" },
      min_value: 3,
      max_value: 15,
    },
    {
      type: T.Boolean,
      name: "allow_sound",
      description: "Allow videos with sound",
      description_localizations: { ja: "音声付きの動画を許可する" },
    },
    {
      type: T.String,
      name: "allowed_models",
      description: "Comma list of pro, std, o3-pro, o3-std (all: every model)",
      description_localizations: { ja: "pro, std, o3-pro, o3-std をカンマ区切りで（all ですべて）" },
      min_length: 1,
      max_length: 60,
    },
    {
      type: T.String,
      name: "default_model",
      description: "Model used when a member does not pick one",
      description_localizations: { ja: "メンバーが指定しないときのモデル" },
      choices: modelChoices,
    },
    {
      type: T.Integer,
      name: "approval_above",
      description: "Jobs estimated above this many credits wait for a manager (0: never)",
      description_localizations: { ja: "この額を超えるジョブは管理者の承認待ちにします（0 で無効）" },
      min_value: 0,
      max_value: 1_000_000_000,
    },
    {
      type: T.Channel,
      name: "moderator_channel",
      description: "Text channel for approvals and the audit trail",
      description_localizations: { ja: "承認と操作記録を送るテキストチャンネル" },
      channel_types: [0],
    },
    {
      type: T.Channel,
      name: "gallery_channel",
      description: "Text channel where members share their finished videos (the Share button)",
      description_localizations: { ja: "メンバーが完成した動画を共有するテキストチャンネル（共有ボタン）" },
      channel_types: [0],
    },
    {
      type: T.Role,
      name: "manager_role",
      description: "Members with this role manage the budget too",
      description_localizations: { ja: "このロールのメンバーも予算を管理できます" },
    },
  ],
});

const channelOption = {
  type: T.Channel,
  name: "channel",
  description: "Channel",
  description_localizations: { ja: "チャンネル" },
  required: true,
  channel_types: [0, 5, 15],
} as const;
const roleOption = {
  type: T.Role,
  name: "role",
  description: "Role",
  description_localizations: { ja: "ロール" },
  required: true,
} as const;
const phraseOption = {
  type: T.String,
  name: "phrase",
  description: "Word or phrase",
  description_localizations: { ja: "単語またはフレーズ" },
  required: true,
  min_length: 1,
  max_length: 100,
} as const;

const reasonOption = {
  type: T.String,
  name: "reason",
  description: "Why (shown to managers)",
  description_localizations: { ja: "理由（管理者に表示されます）" },
  max_length: 200,
} as const;

function listGroup<const O extends ValueOption>(
  name: string,
  what: { en: string; ja: string },
  option: O,
  extra: readonly (typeof reasonOption)[] = [],
) {
  return subcommandGroup({
    name,
    description: `Managers: ${what.en}`,
    description_localizations: { ja: `管理者用：${what.ja}` },
    options: [
      subcommand({
        name: "add",
        description: "Add to the list",
        description_localizations: { ja: "リストに追加します" },
        options: [option, ...extra],
      }),
      subcommand({
        name: "remove",
        description: "Remove from the list",
        description_localizations: { ja: "リストから削除します" },
        options: [option],
      }),
      subcommand({
        name: "list",
        description: "Show the list",
        description_localizations: { ja: "リストを表示します" },
        options: [],
      }),
    ],
  });
}

export const BudgetChannels = listGroup(
  "channels",
  {
    en: "channels where /video may be used (none: everywhere)",
    ja: "/video を使えるチャンネル（なしで全チャンネル）",
  },
  channelOption,
);
export const BudgetRoles = listGroup(
  "roles",
  { en: "roles allowed to make videos (none: everyone)", ja: "動画を作れるロール（なしで全員）" },
  roleOption,
);
export const BudgetBlocklist = listGroup(
  "blocklist",
  { en: "phrases refused in prompts", ja: "プロンプトで禁止するフレーズ" },
  phraseOption,
  [reasonOption],
);

const memberOption = {
  type: T.User,
  name: "member",
  description: "Member",
  description_localizations: { ja: "メンバー" },
  required: true,
} as const;

export const BudgetFreeze = subcommand({
  name: "freeze",
  description: "Managers: stop one member's spending",
  description_localizations: { ja: "管理者用：メンバーの利用を一時停止します" },
  options: [
    memberOption,
    {
      ...reasonOption,
      description: "Why (shown to the member)",
      description_localizations: { ja: "理由（メンバーに表示されます）" },
    },
  ],
});

export const BudgetUnfreeze = subcommand({
  name: "unfreeze",
  description: "Managers: let a member spend again",
  description_localizations: { ja: "管理者用：メンバーの一時停止を解除します" },
  options: [memberOption],
});

/** The periods of `/budget usage`, in UTC: today, the last 7 or 30 days, the calendar month. */
export const USAGE_PERIODS = ["today", "7d", "30d", "month"] as const;
export type UsagePeriod = (typeof USAGE_PERIODS)[number];

export const BudgetUsage = subcommand({
  name: "usage",
  description: "Managers: spending per member and per model, with a CSV file",
  description_localizations: { ja: "管理者用：メンバー別・モデル別の利用額を CSV ファイル付きで表示します" },
  options: [
    {
      type: T.String,
      name: "period",
      description: "Which period, in UTC (default: this month)",
      description_localizations: { ja: "期間（UTC。省略時は今月）" },
      choices: [
        { name: "Today (UTC)", name_localizations: { ja: "今日（UTC）" }, value: "today" },
        { name: "Last 7 days", name_localizations: { ja: "過去 7 日間" }, value: "7d" },
        { name: "Last 30 days", name_localizations: { ja: "過去 30 日間" }, value: "30d" },
        { name: "This month (UTC)", name_localizations: { ja: "今月（UTC）" }, value: "month" },
      ],
    },
  ],
});

export const BudgetLedger = subcommand({
  name: "ledger",
  description: "Managers: the latest movements of the server's credits, page by page",
  description_localizations: {
    ja: "管理者用：サーバーのクレジットの最近の動き（台帳）をページごとに表示します",
  },
  options: [],
});

export const BudgetCommand = guildCommand({
  name: "budget",
  description: "The server's shared video credits",
  description_localizations: { ja: "サーバーで共有する動画クレジット" },
  options: [
    BudgetShow,
    BudgetGrant,
    BudgetAllowance,
    BudgetConfig,
    BudgetChannels,
    BudgetRoles,
    BudgetBlocklist,
    BudgetFreeze,
    BudgetUnfreeze,
    BudgetUsage,
    BudgetLedger,
  ],
});

export type BudgetGrantArgs = ArgumentsOf<typeof BudgetGrant>;
export type BudgetConfigArgs = ArgumentsOf<typeof BudgetConfig>;
