import { randomUUID } from "node:crypto";
import {
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  DiscordAPIError,
  type Interaction,
  type InteractionEditReplyOptions,
  type InteractionReplyOptions,
  MessageFlags,
  PermissionFlagsBits,
  type PermissionsBitField,
} from "discord.js";
import {
  VideoCommand,
  VideoEdit,
  VideoImage,
  VideoReference,
  VideoStatus,
  VideoText,
} from "../../commands/video.js";
import {
  findGuildJob,
  heldCredits,
  type JobRow,
  jobsInFlight,
  recentJobsOfUser,
  storedRequest,
} from "../jobs/repository.js";
import {
  acceptVideoRequest,
  DEFAULT_ATTACHMENT_LIMIT,
  type JobServices,
  submitJob,
  withLease,
} from "../jobs/service.js";
import type { JobState } from "../jobs/states.js";
import { getBalance, getUsage } from "../ledger/ledger.js";
import type { Logger } from "../log.js";
import { say } from "../video/messages.js";
import type { Validation } from "../video/validate.js";
import {
  validateEdit,
  validateImage,
  validateReference,
  validateStatus,
  validateText,
} from "../video/validate.js";
import { readArguments } from "./arguments.js";
import * as render from "./render.js";
import { allowedMentions } from "./replies.js";

/** The interaction token's lifetime (Discord: 15 minutes). */
const TOKEN_LIFETIME_MS = 15 * 60_000;
/** Discord: "Interaction has already been acknowledged" — a redelivered interaction. */
const ALREADY_ACKNOWLEDGED = 40060;

export interface InteractionDeps {
  services: JobServices;
  logger: Logger;
}

function toDiscord(message: render.ReplyMessage): InteractionEditReplyOptions {
  return {
    content: message.content || null,
    embeds: message.embeds,
    allowedMentions: allowedMentions(message.pingUserId),
    files: message.files?.map((f) => ({ attachment: f.data, name: f.name })) ?? [],
  } as InteractionEditReplyOptions;
}

/** Answer only the member (or, once a reply was deferred, edit that reply: its visibility is fixed). */
async function answer(interaction: ChatInputCommandInteraction, message: render.ReplyMessage) {
  const payload = toDiscord(message);
  if (interaction.deferred || interaction.replied) await interaction.editReply(payload);
  else
    await interaction.reply({
      ...payload,
      content: payload.content ?? undefined,
      flags: MessageFlags.Ephemeral,
    } as InteractionReplyOptions);
}

/** What the bot needs to post in a channel once the interaction token has expired. */
function missingPostPermissions(perms: Readonly<PermissionsBitField> | null, inThread: boolean): string[] {
  if (!perms) return [];
  const needed: [bigint, string][] = [
    [PermissionFlagsBits.ViewChannel, "View Channel"],
    [
      inThread ? PermissionFlagsBits.SendMessagesInThreads : PermissionFlagsBits.SendMessages,
      inThread ? "Send Messages in Threads" : "Send Messages",
    ],
    [PermissionFlagsBits.AttachFiles, "Attach Files"],
    [PermissionFlagsBits.EmbedLinks, "Embed Links"],
  ];
  return needed.filter(([flag]) => !perms.has(flag)).map(([, name]) => name);
}

export function createInteractionHandler(deps: InteractionDeps): (interaction: Interaction) => Promise<void> {
  const log = deps.logger;
  return async (interaction) => {
    try {
      if (interaction.isAutocomplete()) return await autocomplete(deps, interaction);
      if (!interaction.isChatInputCommand()) return;
      if (!interaction.inGuild()) return await answer(interaction, render.guildOnly());
      if (interaction.commandName === "video") return await video(deps, interaction);
      if (interaction.commandName === "budget") return await budget(deps, interaction);
    } catch (err) {
      const ref = randomUUID().slice(0, 8);
      log.error({ err, ref, interactionId: interaction.id }, "interaction failed");
      if (interaction.isChatInputCommand()) {
        await answer(interaction, render.errorReference(ref)).catch(() => undefined);
      }
    }
  };
}

async function video(deps: InteractionDeps, interaction: ChatInputCommandInteraction<"cached" | "raw">) {
  // `/video` has subcommands and no groups; anything else comes from a stale registration or a forged payload.
  const group = interaction.options.getSubcommandGroup(false);
  const sub = interaction.options.getSubcommand(false);
  let validation: Validation;
  switch (group === null ? sub : null) {
    case "text":
      validation = validateText(readArguments(interaction, VideoText));
      break;
    case "image":
      validation = validateImage(readArguments(interaction, VideoImage));
      break;
    case "reference":
      validation = validateReference(readArguments(interaction, VideoReference));
      break;
    case "edit":
      validation = validateEdit(readArguments(interaction, VideoEdit));
      break;
    case "status": {
      const job = validateStatus(readArguments(interaction, VideoStatus));
      if (!job.ok) return answer(interaction, { content: job.problems.join("\n"), embeds: [] });
      return status(deps, interaction, job.value);
    }
    case "history":
      return history(deps, interaction);
    default: {
      const ref = randomUUID().slice(0, 8);
      const name = [group, sub].filter((n) => n !== null).join(" ");
      deps.logger.warn(
        { ref, interactionId: interaction.id, subcommand: name.slice(0, 100) },
        "unknown /video subcommand",
      );
      const known = VideoCommand.options.map((o) => o.name);
      await answer(interaction, render.invalidInput([say.unknownSubcommand(name, known, ref)]));
      return;
    }
  }
  if (!validation.ok) {
    await answer(interaction, render.invalidInput(validation.problems));
    return;
  }
  await createVideo(deps, interaction, validation.value);
}

async function createVideo(
  deps: InteractionDeps,
  interaction: ChatInputCommandInteraction<"cached" | "raw">,
  request: Extract<Validation, { ok: true }>["value"],
) {
  const s = deps.services;
  // Discord allows 3 s for the first answer: defer before any I/O.
  try {
    await interaction.deferReply();
  } catch (err) {
    if (!(err instanceof DiscordAPIError && err.code === ALREADY_ACKNOWLEDGED)) {
      // Unknown interaction (10062) and the like: the member saw "did not respond"; nothing was held.
      deps.logger.warn({ err, interactionId: interaction.id }, "could not defer; nothing was reserved");
      return;
    }
  }
  const inThread = interaction.channel?.isThread() ?? false;
  const missing = missingPostPermissions(interaction.appPermissions, inThread);
  const warnings = missing.length
    ? [
        `I lack ${missing.join(", ")} in this channel: if this video takes longer than 15 minutes I may not be able to post it here.`,
      ]
    : [];
  const result = await acceptVideoRequest(s, {
    interactionId: interaction.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    applicationId: interaction.applicationId,
    interactionToken: interaction.token,
    tokenExpiresAt: new Date(interaction.createdTimestamp + TOKEN_LIFETIME_MS),
    request,
    delivery: { attachmentSizeLimit: interaction.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT, warnings },
  });
  switch (result.kind) {
    case "duplicate":
      deps.logger.info({ jobId: result.job.id }, "interaction delivered again; the job already exists");
      return;
    case "insufficient":
      await answer(interaction, render.insufficientBudget(result.cost, result.balance));
      return;
    case "accepted": {
      try {
        await withLease(s, result.job.id, () => submitJob(s, result.job));
      } catch (err) {
        // The job is stored and its credits held: the poller takes it up when the lease runs out. The
        // member must not be told that nothing was charged and invited to pay again.
        deps.logger.error({ err, jobId: result.job.id }, "submit failed; the poller will retry it");
      }
      return;
    }
  }
}

const STATE_LABEL: Readonly<Record<JobState, string>> = {
  pending: "Waiting to be sent",
  submitting: "Being sent",
  running: "Generating",
  delivering: "Being delivered",
  completed: "Done",
  failed: "Failed",
};

function jobLine(job: JobRow, guildId: string): string {
  const req = storedRequest(job);
  const cost = job.chargedCost ?? job.estimatedCost;
  const costText = job.state === "failed" ? "refunded" : render.credits(cost);
  const link = job.replyMessageId
    ? ` · [reply](https://discord.com/channels/${guildId}/${job.replyChannelId ?? job.channelId}/${job.replyMessageId})`
    : "";
  const prompt = render.escapeUserText(req.display.prompt, 60);
  return `**#${job.id}** · ${STATE_LABEL[job.state]} · ${costText}${link}\n${prompt}`;
}

async function status(
  deps: InteractionDeps,
  interaction: ChatInputCommandInteraction<"cached" | "raw">,
  id: number,
) {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const job = await findGuildJob(deps.services.db, interaction.guildId, id);
  if (!job) {
    await interaction.editReply({
      content: `There is no video #${id} in this server.`,
      allowedMentions: allowedMentions(),
    });
    return;
  }
  const lines = [
    jobLine(job, interaction.guildId),
    `Requested by <@${job.userId}> <t:${Math.floor(job.createdAt.getTime() / 1000)}:R>`,
  ];
  if (job.errorMessage) lines.push(`Reason: ${render.escapeUserText(job.errorMessage, 500)}`);
  await interaction.editReply({
    content: null,
    embeds: [
      {
        title: `Video #${job.id}`,
        description: render.truncate(lines.join("\n"), 4000),
        color: render.COLOR.info,
      },
    ],
    allowedMentions: allowedMentions(),
  });
}

async function history(deps: InteractionDeps, interaction: ChatInputCommandInteraction<"cached" | "raw">) {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const rows = await recentJobsOfUser(deps.services.db, interaction.guildId, interaction.user.id, 10);
  const description = rows.length
    ? rows.map((j) => jobLine(j, interaction.guildId)).join("\n\n")
    : "You have not made any videos in this server yet. Try `/video text`.";
  await interaction.editReply({
    embeds: [
      {
        title: "Your recent videos",
        description: render.truncate(description, 4000),
        color: render.COLOR.info,
      },
    ],
    allowedMentions: allowedMentions(),
  });
}

async function budget(deps: InteractionDeps, interaction: ChatInputCommandInteraction<"cached" | "raw">) {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const db = deps.services.db;
  const guildId = interaction.guildId;
  const now = deps.services.now();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const [balance, mine, mineMonth, inFlight, held] = await Promise.all([
    getBalance(db, guildId),
    getUsage(db, { guildId, userId: interaction.user.id }),
    getUsage(db, { guildId, userId: interaction.user.id, since: monthStart }),
    jobsInFlight(db, guildId),
    heldCredits(db, guildId),
  ]);
  const flight = inFlight.length
    ? inFlight.map((j) => `#${j.id} · ${STATE_LABEL[j.state]} · <@${j.userId}>`).join("\n")
    : "none";
  await interaction.editReply({
    embeds: [
      {
        title: "Server video credits",
        color: render.COLOR.info,
        fields: [
          { name: "Balance", value: render.credits(balance), inline: true },
          { name: "Held for jobs in flight", value: render.credits(held), inline: true },
          { name: "Your spending this month", value: render.credits(mineMonth.charged), inline: true },
          {
            name: "Your spending in all",
            value: `${render.credits(mine.charged)} (${mine.jobs} videos)`,
            inline: true,
          },
          { name: `Jobs in flight (${inFlight.length})`, value: render.truncate(flight, 1024) },
        ],
      },
    ],
    allowedMentions: allowedMentions(),
  });
}

async function autocomplete(deps: InteractionDeps, interaction: AutocompleteInteraction) {
  if (!interaction.inGuild()) return interaction.respond([]);
  const typed = String(interaction.options.getFocused() ?? "").trim();
  const rows = await recentJobsOfUser(deps.services.db, interaction.guildId, interaction.user.id, 25);
  const choices = rows
    .filter((j) => !typed || String(j.id).startsWith(typed.replace(/^#/, "")))
    .map((j) => ({
      name: render.truncate(`#${j.id} · ${STATE_LABEL[j.state]} · ${storedRequest(j).display.prompt}`, 100),
      value: j.id,
    }));
  await interaction.respond(choices.slice(0, 25));
}
