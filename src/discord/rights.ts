import { type BaseInteraction, PermissionFlagsBits } from "discord.js";

type Interaction = BaseInteraction;

import type { GuildSettingsValue } from "../moderation/settings.js";

/**
 * Who may do what, checked by the bot itself on every command and every click (Discord's
 * `default_member_permissions` covers a whole command, and `/budget` serves everyone):
 * - operators: `BOT_OWNER_IDS` and the application's owners; only they create or remove credits;
 * - managers of a server: Manage Server, or the manager role the server names;
 * - members: everyone else.
 */
export function isOperator(interaction: Interaction, operatorIds: ReadonlySet<string>): boolean {
  return operatorIds.has(interaction.user.id);
}

export function isManager(interaction: Interaction, settings: GuildSettingsValue): boolean {
  if (!interaction.inGuild()) return false;
  if (interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) return true;
  return settings.managerRoleId !== undefined && memberRoleIds(interaction).includes(settings.managerRoleId);
}

export function memberRoleIds(interaction: Interaction): string[] {
  if (!interaction.inGuild()) return [];
  const roles = interaction.member.roles;
  return Array.isArray(roles) ? roles : [...roles.cache.keys()];
}
