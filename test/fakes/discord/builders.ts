import type {
  APIApplicationCommandAutocompleteInteraction,
  APIAttachment,
  APIChatInputApplicationCommandInteraction,
  APIInteractionDataResolved,
  APIUser,
  UserFlags,
} from "discord.js";
import { apiChannel, type ChannelModel, type GuildModel } from "./guilds.js";
import { cdnUrls, makeInteractionToken, Permission as P, type Snowflakes } from "./protocol.js";

/**
 * Builders for the interactions a member's client would cause: a slash command with a subcommand and
 * typed options, and the autocomplete request while typing one of them. Option types come from the
 * commands the bot registered with the fake, else from the JavaScript value.
 */

/** Option types (discord-api-docs, "Application Command Option Type"). */
export const OptionType = {
  Subcommand: 1,
  SubcommandGroup: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
  User: 6,
  Channel: 7,
  Role: 8,
  Mentionable: 9,
  Number: 10,
  Attachment: 11,
} as const;

/** A value, or a value with its option type spelled out (e.g. `{ type: 10, value: 5 }` for a NUMBER). */
export type OptionValue = string | number | boolean | { type: number; value: string | number | boolean };

export interface AttachmentSpec {
  filename: string;
  content_type?: string;
  size: number;
  /** Defaults to a signed cdn.discordapp.com ephemeral-attachments URL. */
  url?: string;
  width?: number;
  height?: number;
  id?: string;
}

export interface InteractionSpecBase {
  name: string;
  subcommand?: string;
  group?: string;
  options?: Record<string, OptionValue>;
  userId?: string;
  username?: string;
  /** Defaults to the first configured guild; `null` builds the DM variant (no guild, `user` instead of `member`). */
  guildId?: string | null;
  /** Defaults to the guild's first text channel (or the user's DM channel). */
  channelId?: string;
  /** The bot's permissions in the channel (`app_permissions`); default: its role plus @everyone. */
  appPermissions?: string | bigint;
  /** The invoking member's permissions; default: @everyone's. */
  memberPermissions?: string | bigint;
  /** The invoking member's role ids; default: none. */
  memberRoles?: string[];
  /** `attachment_size_limit`; default 10 MiB. */
  attachmentSizeLimit?: number;
  locale?: string;
}

export interface ChatInputSpec extends InteractionSpecBase {
  /** Attachment options by name; their ids go into `data.resolved.attachments`. */
  attachments?: Record<string, AttachmentSpec>;
}

/** A click on a button (or a select menu) of a message the bot sent. */
export interface ComponentSpec
  extends Omit<InteractionSpecBase, "name" | "subcommand" | "group" | "options"> {
  customId: string;
  /** The message carrying the component (the fake's own message object, as the API returns it). */
  message: Record<string, unknown>;
  /** 2: button (default), 3: string select. */
  componentType?: number;
  values?: string[];
}

/** A modal the bot opened, submitted with these text inputs (by their custom ids). */
export interface ModalSubmitSpec
  extends Omit<InteractionSpecBase, "name" | "subcommand" | "group" | "options"> {
  customId: string;
  fields: Record<string, string>;
  message?: Record<string, unknown>;
}

/** A message context-menu command (Apps → `name`) used on a message. */
export interface MessageMenuSpec extends Omit<InteractionSpecBase, "subcommand" | "group" | "options"> {
  /** The target message, as the API returns it (`apiMessage(m)`). */
  message: Record<string, unknown>;
}

export interface AutocompleteSpec extends InteractionSpecBase {
  /** The option being typed; its value is sent as the string typed so far. */
  focused: string;
}

export interface CommandDefinition {
  id: string;
  name: string;
  guild_id?: string;
  options?: unknown[];
}

export interface BuilderContext {
  applicationId: string;
  ids: Snowflakes;
  now(): number;
  guild(id: string): GuildModel | undefined;
  defaultGuild(): GuildModel | undefined;
  dmChannel(user: APIUser): ChannelModel;
  /** The command as registered (guild first, then global), or a stable stand-in; `type` 3: a message menu. */
  command(name: string, guildId: string | undefined, type?: number): CommandDefinition;
  attachmentSizeLimit: number;
}

interface OptionDef {
  type?: number;
  name?: string;
  options?: unknown[];
}

function findDef(list: unknown[] | undefined, name: string): OptionDef | undefined {
  return (list as OptionDef[] | undefined)?.find((o) => o?.name === name);
}

function inferType(value: string | number | boolean): number {
  if (typeof value === "boolean") return OptionType.Boolean;
  if (typeof value === "number") return Number.isInteger(value) ? OptionType.Integer : OptionType.Number;
  return OptionType.String;
}

function user(id: string, username?: string): APIUser {
  return {
    id,
    username: username ?? `member${id.slice(-4)}`,
    discriminator: "0",
    global_name: username ?? null,
    avatar: null,
    public_flags: 0 as UserFlags,
  };
}

/** What a bot may do in its DM with a user. */
const DM_APP_PERMISSIONS = (
  P.ViewChannel |
  P.SendMessages |
  P.EmbedLinks |
  P.AttachFiles |
  P.ReadMessageHistory |
  P.AddReactions |
  P.UseExternalEmojis |
  P.UseApplicationCommands
).toString();

function orPermissions(...values: string[]): string {
  return values.reduce((acc, v) => acc | BigInt(v), 0n).toString();
}

export function createInteractionBuilders(ctx: BuilderContext) {
  function build(
    spec: InteractionSpecBase & { attachments?: Record<string, AttachmentSpec> },
    focused?: string,
  ) {
    const now = ctx.now();
    const id = ctx.ids.next();
    const token = makeInteractionToken(id);
    const invoker = user(spec.userId ?? "400000000000000001", spec.username);
    const guild =
      spec.guildId === null
        ? undefined
        : spec.guildId !== undefined
          ? ctx.guild(spec.guildId)
          : ctx.defaultGuild();
    if (spec.guildId && !guild) throw new Error(`fake Discord: guild ${spec.guildId} is not configured`);
    let channel: ChannelModel | undefined;
    if (guild) {
      channel = spec.channelId
        ? guild.channels.find((c) => c.id === spec.channelId)
        : (guild.channels.find((c) => c.type === 0) ?? guild.channels[0]);
      if (!channel)
        throw new Error(`fake Discord: channel ${spec.channelId ?? "(text)"} is not in guild ${guild.id}`);
    } else {
      channel = ctx.dmChannel(invoker);
    }

    const definition = ctx.command(spec.name, guild?.id);
    let defs = definition.options;
    const resolved: APIInteractionDataResolved = {};
    const group = spec.group;
    const sub = spec.subcommand;
    if (group) defs = findDef(defs, group)?.options;
    if (sub) defs = findDef(defs, sub)?.options;

    const options: Record<string, unknown>[] = Object.entries(spec.options ?? {}).map(([name, raw]) => {
      const value = typeof raw === "object" ? raw.value : raw;
      const explicit = typeof raw === "object" ? raw.type : undefined;
      const type = explicit ?? findDef(defs, name)?.type ?? inferType(value);
      const option: Record<string, unknown> = { name, type, value };
      if (name === focused) {
        option.value = String(value);
        option.focused = true;
      }
      if (type === OptionType.User && typeof value === "string") {
        resolved.users = { ...resolved.users, [value]: user(value) };
      }
      return option;
    });
    if (focused && !options.some((o) => o.name === focused)) {
      options.push({
        name: focused,
        type: findDef(defs, focused)?.type ?? OptionType.String,
        value: "",
        focused: true,
      });
    }
    for (const [name, a] of Object.entries(spec.attachments ?? {})) {
      const attachmentId = a.id ?? ctx.ids.next();
      const attachment: APIAttachment = {
        id: attachmentId,
        filename: a.filename,
        size: a.size,
        ...(a.content_type ? { content_type: a.content_type } : {}),
        ...(a.width !== undefined ? { width: a.width, height: a.height ?? a.width } : {}),
        ...(a.url
          ? { url: a.url, proxy_url: a.url }
          : cdnUrls(now, "ephemeral-attachments", definition.id, attachmentId, a.filename)),
        ephemeral: true,
      };
      resolved.attachments = { ...resolved.attachments, [attachmentId]: attachment };
      options.push({ name, type: OptionType.Attachment, value: attachmentId });
    }

    let dataOptions: Record<string, unknown>[] = options;
    if (sub) dataOptions = [{ name: sub, type: OptionType.Subcommand, options: dataOptions }];
    if (group) dataOptions = [{ name: group, type: OptionType.SubcommandGroup, options: dataOptions }];

    const everyone = guild?.everyonePermissions ?? "0";
    const appPermissions =
      spec.appPermissions !== undefined
        ? spec.appPermissions.toString()
        : guild
          ? orPermissions(guild.botPermissions, everyone)
          : DM_APP_PERMISSIONS;
    const memberPermissions =
      spec.memberPermissions !== undefined ? spec.memberPermissions.toString() : everyone;
    const channelPayload = {
      ...apiChannel(channel, invoker.id),
      ...(guild ? { permissions: memberPermissions } : {}),
    };
    const data = {
      id: definition.id,
      name: spec.name,
      type: 1,
      ...(dataOptions.length ? { options: dataOptions } : {}),
      ...(Object.keys(resolved).length && !focused ? { resolved } : {}),
      ...(definition.guild_id ? { guild_id: definition.guild_id } : {}),
    };
    const common = {
      id,
      application_id: ctx.applicationId,
      type: focused ? 4 : 2,
      data,
      channel: channelPayload,
      channel_id: channel.id,
      token,
      version: 1,
      app_permissions: appPermissions,
      locale: spec.locale ?? "en-US",
      entitlements: [],
      attachment_size_limit: spec.attachmentSizeLimit ?? ctx.attachmentSizeLimit,
    };
    if (guild) {
      return {
        ...common,
        guild: { id: guild.id, locale: guild.locale, features: [] },
        guild_id: guild.id,
        guild_locale: guild.locale,
        member: {
          user: invoker,
          roles: spec.memberRoles ?? [],
          permissions: memberPermissions,
          joined_at: new Date(now - 86_400_000).toISOString(),
          premium_since: null,
          deaf: false,
          mute: false,
          flags: 0,
          pending: false,
          nick: null,
          avatar: null,
          banner: null,
          communication_disabled_until: null,
          unusual_dm_activity_until: null,
        },
        // Installed to the guild: key 0 (GUILD_INSTALL) names the guild.
        authorizing_integration_owners: { "0": guild.id },
        context: 0,
      };
    }
    return {
      ...common,
      user: invoker,
      // A guild-installed app used in its bot's DM: GUILD_INSTALL maps to "0".
      authorizing_integration_owners: { "0": "0" },
      context: 1,
    };
  }

  /** A component or modal interaction: the same envelope as a command's, with other `type` and `data`. */
  function buildOther(
    spec: Omit<InteractionSpecBase, "name" | "subcommand" | "group" | "options">,
    type: number,
    data: Record<string, unknown>,
    message: Record<string, unknown> | undefined,
  ) {
    // The envelope of a command interaction (ids, token, member, channel, locale), then this kind's own parts.
    const base = build({ ...spec, name: "component" }) as Record<string, unknown>;
    return { ...base, type, data, ...(message ? { message } : {}) };
  }

  return {
    component(spec: ComponentSpec): Record<string, unknown> {
      return buildOther(
        spec,
        3,
        {
          custom_id: spec.customId,
          component_type: spec.componentType ?? 2,
          ...(spec.values ? { values: spec.values } : {}),
        },
        spec.message,
      );
    },
    modalSubmit(spec: ModalSubmitSpec): Record<string, unknown> {
      const components = Object.entries(spec.fields).map(([custom_id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id, value }],
      }));
      return buildOther(spec, 5, { custom_id: spec.customId, components }, spec.message);
    },
    chatInput(spec: ChatInputSpec): APIChatInputApplicationCommandInteraction {
      return build(spec) as unknown as APIChatInputApplicationCommandInteraction;
    },
    /** Interaction type 2 with command type 3: `target_id` and the message in `resolved.messages`. */
    messageMenu(spec: MessageMenuSpec): Record<string, unknown> {
      const target = spec.message;
      const guildId =
        spec.guildId === null ? undefined : (spec.guildId ?? (ctx.defaultGuild()?.id as string | undefined));
      const definition = ctx.command(spec.name, guildId, 3);
      const data = {
        id: definition.id,
        name: spec.name,
        type: 3,
        target_id: String(target.id),
        resolved: { messages: { [String(target.id)]: target } },
        ...(definition.guild_id ? { guild_id: definition.guild_id } : {}),
      };
      return buildOther(spec, 2, data, undefined);
    },
    autocomplete(spec: AutocompleteSpec): APIApplicationCommandAutocompleteInteraction {
      return build(spec, spec.focused) as unknown as APIApplicationCommandAutocompleteInteraction;
    },
  };
}
