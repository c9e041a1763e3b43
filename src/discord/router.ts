import { randomUUID } from "node:crypto";
import type {
  AutocompleteInteraction,
  ChatInputCommandInteraction,
  Interaction,
  MessageComponentInteraction,
  MessageContextMenuCommandInteraction,
  ModalSubmitInteraction,
} from "discord.js";
import { AnimateCommand } from "../../commands/animate.js";
import { VideoCommand, VideoEdit, VideoImage, VideoReference, VideoText } from "../../commands/video.js";
import { renderMessage, t } from "../i18n/index.js";
import { type Locale, localeOf } from "../i18n/locale.js";
import type { JobServices } from "../jobs/services.js";
import type { Logger } from "../log.js";
import { say } from "../video/messages.js";
import { validateEdit, validateImage, validateReference, validateText } from "../video/validate.js";
import { guildAllowed } from "./allowed-guilds.js";
import { readArguments } from "./arguments.js";
import type { ChannelPosts } from "./channel-posts.js";
import { type CustomId, parseCustomId } from "./custom-id.js";
import { animateOpened, animateSubmitted } from "./handlers/animate.js";
import { approveClicked, denyClicked, denySubmitted } from "./handlers/approval.js";
import { budgetConfig } from "./handlers/budget-config.js";
import { budgetFreeze, budgetUnfreeze } from "./handlers/budget-freeze.js";
import { budgetAllowance, budgetGrant } from "./handlers/budget-grant.js";
import { budgetLedger, ledgerClicked } from "./handlers/budget-ledger.js";
import { budgetList } from "./handlers/budget-list.js";
import { budgetShow } from "./handlers/budget-show.js";
import { budgetUsage } from "./handlers/budget-usage.js";
import {
  continueClicked,
  continueSubmitted,
  editClicked,
  editSubmitted,
  referenceClicked,
  referenceSubmitted,
  rerollClicked,
} from "./handlers/clip-buttons.js";
import type { HandlerContext } from "./handlers/context.js";
import { jobAutocomplete } from "./handlers/job-autocomplete.js";
import { shareClicked } from "./handlers/share.js";
import { cancelClicked, videoCancel } from "./handlers/video-cancel.js";
import { videoCreate } from "./handlers/video-create.js";
import { videoHistory } from "./handlers/video-history.js";
import { videoStatus } from "./handlers/video-status.js";
import type { ModeratorChannel } from "./moderator-channel.js";
import * as render from "./render.js";
import { type Answerable, answer } from "./respond.js";

/**
 * The one entry for every interaction: chat-input commands, autocomplete, buttons, select menus, modals and
 * context-menu commands. Each kind has a table of handlers, each handler its own file under handlers/; every
 * reply is built by render.ts. One error funnel: the member gets a short ephemeral message with a reference
 * id, the log gets the details under the same id.
 *
 * Where a new thing goes: a slash subcommand → `CHAT_INPUT["command sub"]`; a button, select menu or modal →
 * `COMPONENTS[action]` / `MODALS[action]` with a `custom_id` made by `formatCustomId(action, …refs)`; a
 * message context-menu command → `MESSAGE_MENU["Name"]`.
 */

export interface RouterDeps {
  services: JobServices;
  logger: Logger;
  moderation: ModeratorChannel;
  posts: ChannelPosts;
  operatorIds: ReadonlySet<string>;
  /** `ALLOWED_GUILD_IDS`: interactions from any other server get a short answer and nothing else. */
  allowedGuildIds?: ReadonlySet<string> | undefined;
}

type Guilded = ChatInputCommandInteraction<"cached" | "raw">;
type Handler<I> = (ctx: HandlerContext<I>) => Promise<void>;
type ComponentHandler = (ctx: HandlerContext<MessageComponentInteraction>, id: CustomId) => Promise<void>;
type ModalHandler = (ctx: HandlerContext<ModalSubmitInteraction>, id: CustomId) => Promise<void>;

/** Slash commands by "command subcommand" (guild-only: a DM gets a short answer before this table). */
const CHAT_INPUT: Readonly<Record<string, Handler<Guilded>>> = {
  "video text": videoCreate((i, c) => validateText(readArguments(i, VideoText), c)),
  "video image": videoCreate((i, c) => validateImage(readArguments(i, VideoImage), c)),
  "video reference": videoCreate((i) => validateReference(readArguments(i, VideoReference))),
  "video edit": videoCreate((i) => validateEdit(readArguments(i, VideoEdit))),
  "video status": videoStatus,
  "video history": videoHistory,
  "video cancel": videoCancel,
  "budget show": budgetShow,
  "budget grant": budgetGrant,
  "budget allowance": budgetAllowance,
  "budget config": budgetConfig,
  "budget channels": budgetList("channels"),
  "budget roles": budgetList("roles"),
  "budget blocklist": budgetList("blocklist"),
  "budget freeze": budgetFreeze,
  "budget unfreeze": budgetUnfreeze,
  "budget usage": budgetUsage,
  "budget ledger": budgetLedger,
};

/** Autocomplete by "command subcommand option". */
const AUTOCOMPLETE: Readonly<Record<string, Handler<AutocompleteInteraction>>> = {
  "video status job": jobAutocomplete,
  "video cancel job": jobAutocomplete,
};

/** Buttons and select menus by the action of their `custom_id` (see custom-id.ts). */
const COMPONENTS: Readonly<Record<string, ComponentHandler>> = {
  approve: approveClicked,
  deny: denyClicked,
  "ledger-newer": ledgerClicked,
  "ledger-older": ledgerClicked,
  cancel: cancelClicked,
  reroll: rerollClicked,
  edit: editClicked,
  continue: continueClicked,
  reference: referenceClicked,
  share: shareClicked,
};
/** Modal submissions by the action of their `custom_id`. */
const MODALS: Readonly<Record<string, ModalHandler>> = {
  deny: denySubmitted,
  edit: editSubmitted,
  continue: continueSubmitted,
  reference: referenceSubmitted,
  animate: animateSubmitted,
};
/** Message context-menu commands by name. */
const MESSAGE_MENU: Readonly<Record<string, Handler<MessageContextMenuCommandInteraction>>> = {
  [AnimateCommand.name]: animateOpened,
};

const KNOWN_SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  video: VideoCommand.options.map((o) => o.name),
};

export function createRouter(deps: RouterDeps): (interaction: Interaction) => Promise<void> {
  return async (interaction) => {
    const locale = localeOf(interaction.locale);
    const context = <I>(i: I): HandlerContext<I> => ({ ...deps, locale, interaction: i });
    try {
      // The bot leaves a server that is not on the list; until it has, nothing there is served.
      if (interaction.guildId && !guildAllowed(deps.allowedGuildIds, interaction.guildId)) {
        if (interaction.isAutocomplete()) return await interaction.respond([]);
        if (interaction.isRepliable())
          return await answer(interaction, render.notice(t(locale, "guild.notAllowed")));
        return;
      }
      if (interaction.isAutocomplete()) {
        const key = [
          interaction.commandName,
          interaction.options.getSubcommand(false),
          interaction.options.getFocused(true).name,
        ]
          .filter(Boolean)
          .join(" ");
        const handler = AUTOCOMPLETE[key];
        return await (handler ? handler(context(interaction)) : interaction.respond([]));
      }
      if (interaction.isChatInputCommand()) {
        if (!interaction.inGuild()) return await answer(interaction, render.guildOnly(locale));
        const sub = interaction.options.getSubcommand(false);
        const group = interaction.options.getSubcommandGroup(false);
        // A subcommand group's handler takes its subcommands (`budget channels` → add, remove, list).
        const handler = CHAT_INPUT[`${interaction.commandName} ${group ?? sub}`];
        if (handler) return await handler(context(interaction));
        return await unknownSubcommand(deps, locale, interaction, [group, sub]);
      }
      if (interaction.isMessageContextMenuCommand()) {
        const handler = MESSAGE_MENU[interaction.commandName];
        if (handler) return await handler(context(interaction));
        return await answer(interaction, render.unknownComponent(locale));
      }
      if (interaction.isMessageComponent()) {
        const id = parseCustomId(interaction.customId);
        const handler = id && COMPONENTS[id.action];
        if (id && handler) return await handler(context(interaction), id);
        return await answer(interaction, render.unknownComponent(locale));
      }
      if (interaction.isModalSubmit()) {
        const id = parseCustomId(interaction.customId);
        const handler = id && MODALS[id.action];
        if (id && handler) return await handler(context(interaction), id);
        return await answer(interaction, render.unknownComponent(locale));
      }
    } catch (err) {
      const ref = randomUUID().slice(0, 8);
      deps.logger.error({ err, ref, interactionId: interaction.id }, "interaction failed");
      if (interaction.isRepliable()) {
        await answer(interaction as Answerable, render.errorReference(locale, ref)).catch(() => undefined);
      }
    }
  };
}

/** A subcommand this bot does not have (a stale registration, a forged payload): say so, with a reference. */
async function unknownSubcommand(
  deps: RouterDeps,
  locale: Locale,
  interaction: ChatInputCommandInteraction,
  parts: (string | null)[],
): Promise<void> {
  const ref = randomUUID().slice(0, 8);
  const name = parts.filter((n) => n !== null).join(" ");
  deps.logger.warn(
    { ref, interactionId: interaction.id, command: interaction.commandName, subcommand: name.slice(0, 100) },
    "unknown subcommand",
  );
  const known = KNOWN_SUBCOMMANDS[interaction.commandName] ?? [];
  await answer(
    interaction,
    render.invalidInput(locale, [renderMessage(locale, say.unknownSubcommand(name, known, ref))]),
  );
}
