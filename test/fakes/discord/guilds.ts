import type {
  APIChannel,
  APIGuild,
  APIGuildMember,
  APIRole,
  APIUser,
  GatewayGuildCreateDispatchData,
  GuildMemberFlags,
  RoleFlags,
} from "discord.js";
import { DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS } from "./protocol.js";

/** The servers the fake bot is in, their channels, and the payloads that describe them. */

export interface FakeChannelConfig {
  id: string;
  name?: string;
  /** Channel type: 0 text (default), 2 voice, 4 category, 5 announcement, 11 public thread, 12 private thread. */
  type?: number;
  /** Category of a channel, or the parent channel of a thread. */
  parentId?: string;
}

export interface FakeGuildConfig {
  id: string;
  name?: string;
  ownerId?: string;
  /** A text channel is created when none is given. */
  channels?: FakeChannelConfig[];
  /** Permissions of the bot's managed role (decimal string bitfield). */
  botPermissions?: string;
  everyonePermissions?: string;
  memberCount?: number;
  /** preferred_locale, e.g. "en-US". */
  locale?: string;
  /** Largest attachment the bot may post with the channel endpoints (default 10 MiB). */
  uploadLimit?: number;
  /** Roles besides @everyone and the bot's own (no permissions of their own). */
  roles?: { id: string; name?: string }[];
}

export interface ChannelModel {
  id: string;
  guildId?: string;
  name: string;
  type: number;
  parentId?: string;
  position: number;
  /** For DM channels: the other user. */
  recipient?: APIUser;
}

export interface GuildModel {
  id: string;
  name: string;
  ownerId: string;
  locale: string;
  channels: ChannelModel[];
  botPermissions: string;
  everyonePermissions: string;
  memberCount: number;
  uploadLimit: number;
  botRoleId: string;
  joinedAt: string;
  extraRoles: { id: string; name: string }[];
}

export const DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024;
const THREAD_TYPES = new Set([10, 11, 12]);

export function isThread(type: number): boolean {
  return THREAD_TYPES.has(type);
}

export function buildGuild(config: FakeGuildConfig, nextId: () => string, now: number): GuildModel {
  const configured = config.channels ?? [{ id: nextId(), name: "general" }];
  return {
    id: config.id,
    name: config.name ?? `Guild ${config.id.slice(-4)}`,
    ownerId: config.ownerId ?? nextId(),
    locale: config.locale ?? "en-US",
    channels: configured.map((c, i) => ({
      id: c.id,
      guildId: config.id,
      name: c.name ?? `channel-${c.id.slice(-4)}`,
      type: c.type ?? 0,
      ...(c.parentId ? { parentId: c.parentId } : {}),
      position: i,
    })),
    botPermissions: config.botPermissions ?? DEFAULT_BOT_PERMISSIONS,
    everyonePermissions: config.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS,
    memberCount: config.memberCount ?? 42,
    uploadLimit: config.uploadLimit ?? DEFAULT_UPLOAD_LIMIT,
    botRoleId: nextId(),
    joinedAt: new Date(now).toISOString(),
    extraRoles: (config.roles ?? []).map((r) => ({ id: r.id, name: r.name ?? `role-${r.id.slice(-4)}` })),
  };
}

export function apiChannel(c: ChannelModel, botUserId: string): APIChannel {
  if (c.recipient) {
    return {
      id: c.id,
      type: 1,
      recipients: [c.recipient],
      last_message_id: null,
      flags: 0,
    } as unknown as APIChannel;
  }
  const base = {
    id: c.id,
    type: c.type,
    guild_id: c.guildId,
    name: c.name,
    position: c.position,
    permission_overwrites: [],
    parent_id: c.parentId ?? null,
    nsfw: false,
    flags: 0,
  };
  if (isThread(c.type)) {
    return {
      ...base,
      owner_id: botUserId,
      last_message_id: null,
      rate_limit_per_user: 0,
      message_count: 0,
      member_count: 1,
      total_message_sent: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: 1440,
        archive_timestamp: new Date(0).toISOString(),
        locked: false,
        ...(c.type === 12 ? { invitable: true } : {}),
      },
    } as unknown as APIChannel;
  }
  if (c.type === 4) return base as unknown as APIChannel;
  if (c.type === 2 || c.type === 13) {
    return {
      ...base,
      bitrate: 64000,
      user_limit: 0,
      rtc_region: null,
      last_message_id: null,
    } as unknown as APIChannel;
  }
  return {
    ...base,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    default_auto_archive_duration: 1440,
  } as unknown as APIChannel;
}

function roles(g: GuildModel, botUserId: string): APIRole[] {
  const role = (
    id: string,
    name: string,
    permissions: string,
    position: number,
    managed: boolean,
  ): APIRole => ({
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions,
    managed,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...(managed ? { tags: { bot_id: botUserId } } : {}),
  });
  return [
    role(g.id, "@everyone", g.everyonePermissions, 0, false),
    role(g.botRoleId, "Kling Bot", g.botPermissions, 1, true),
    ...g.extraRoles.map((r, i) => role(r.id, r.name, "0", 2 + i, false)),
  ];
}

export function apiGuild(g: GuildModel, botUserId: string): APIGuild {
  return {
    id: g.id,
    name: g.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: g.ownerId,
    region: "",
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 1,
    explicit_content_filter: 0,
    roles: roles(g, botUserId),
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: g.channels.find((c) => c.type === 0)?.id ?? null,
    system_channel_flags: 0,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: g.locale,
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    approximate_member_count: g.memberCount,
    approximate_presence_count: 1,
    nsfw_level: 0,
    stickers: [],
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
  } satisfies Partial<Record<keyof APIGuild, unknown>> as unknown as APIGuild;
}

export function botMember(g: GuildModel, bot: APIUser): APIGuildMember {
  return {
    user: bot,
    nick: null,
    avatar: null,
    banner: null,
    roles: [g.botRoleId],
    joined_at: g.joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

/** GUILD_CREATE as sent after READY: the guild, its channels and threads, and the bot as a member. */
export function guildCreatePayload(g: GuildModel, bot: APIUser): GatewayGuildCreateDispatchData {
  const channels = g.channels.map((c) => apiChannel(c, bot.id));
  return {
    ...apiGuild(g, bot.id),
    joined_at: g.joinedAt,
    large: false,
    unavailable: false,
    member_count: g.memberCount,
    voice_states: [],
    members: [botMember(g, bot)],
    channels: channels.filter((c) => !isThread(c.type)) as GatewayGuildCreateDispatchData["channels"],
    threads: channels.filter((c) => isThread(c.type)) as GatewayGuildCreateDispatchData["threads"],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  } as GatewayGuildCreateDispatchData;
}
