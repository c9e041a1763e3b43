import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import type { Locale } from "../src/i18n/locale.js";

/**
 * Command data is data: each command is one typed constant, and the handlers' argument types are
 * derived from it (`ArgumentsOf`), never written twice.
 */

/**
 * What Discord shows in another language, by its locale code (ours are Discord's: `ja`). Only descriptions
 * and choice names are translated: command and option names are the interface and stay as they are.
 */
export type Localizations = Readonly<Partial<Record<Exclude<Locale, "en">, string>>>;

interface BaseOption {
  readonly name: string;
  readonly description: string;
  readonly description_localizations?: Localizations;
  readonly required?: boolean;
}
export interface Choice<V extends string = string> {
  readonly name: string;
  readonly name_localizations?: Localizations;
  readonly value: V;
}
export interface StringOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.String;
  readonly min_length?: number;
  readonly max_length?: number;
  readonly choices?: readonly Choice[];
  readonly autocomplete?: boolean;
}
export interface IntegerOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.Integer;
  readonly min_value?: number;
  readonly max_value?: number;
  readonly autocomplete?: boolean;
}
export interface NumberOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.Number;
  readonly min_value?: number;
  readonly max_value?: number;
}
export interface BooleanOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.Boolean;
}
export interface AttachmentOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.Attachment;
}
/** A channel, role or member: the handler gets its id. */
export interface ChannelOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.Channel;
  readonly channel_types?: readonly number[];
}
export interface RoleOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.Role;
}
export interface UserOption extends BaseOption {
  readonly type: ApplicationCommandOptionType.User;
}
export type ValueOption =
  | StringOption
  | IntegerOption
  | NumberOption
  | BooleanOption
  | AttachmentOption
  | ChannelOption
  | RoleOption
  | UserOption;

export interface SubcommandDef {
  readonly type: ApplicationCommandOptionType.Subcommand;
  readonly name: string;
  readonly description: string;
  readonly description_localizations?: Localizations;
  readonly options?: readonly ValueOption[];
}

/** A group of subcommands: `/budget channels add`. */
export interface SubcommandGroupDef {
  readonly type: ApplicationCommandOptionType.SubcommandGroup;
  readonly name: string;
  readonly description: string;
  readonly description_localizations?: Localizations;
  readonly options: readonly SubcommandDef[];
}

export interface CommandDef {
  readonly name: string;
  readonly description: string;
  readonly description_localizations?: Localizations;
  readonly options: readonly (SubcommandDef | SubcommandGroupDef)[];
  readonly default_member_permissions?: string | null;
  readonly contexts: readonly InteractionContextType[];
  readonly integration_types: readonly ApplicationIntegrationType[];
}

/**
 * A message context-menu command (right-click a message → Apps). Discord shows its name, which may have
 * spaces and capitals, and translates the name itself: such a command has no description.
 */
export interface MessageCommandDef {
  readonly type: ApplicationCommandType.Message;
  readonly name: string;
  readonly name_localizations: Localizations;
  readonly default_member_permissions?: string | null;
  readonly contexts: readonly InteractionContextType[];
  readonly integration_types: readonly ApplicationIntegrationType[];
}

/** What the bot needs to know of an attachment; discord.js's `Attachment` has these fields. */
export interface AttachmentInfo {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly contentType: string | null;
  readonly size: number;
}

type ValueOf<O extends ValueOption> = O extends StringOption
  ? O["choices"] extends readonly { value: infer V }[]
    ? V
    : string
  : O extends IntegerOption | NumberOption
    ? number
    : O extends BooleanOption
      ? boolean
      : O extends ChannelOption | RoleOption | UserOption
        ? string
        : AttachmentInfo;

/** The typed arguments of a subcommand, derived from its data. */
export type ArgumentsOf<S extends SubcommandDef> = S["options"] extends readonly ValueOption[]
  ? {
      [O in S["options"][number] as O["name"]]: O["required"] extends true
        ? ValueOf<O>
        : ValueOf<O> | undefined;
    }
  : Record<string, never>;

/** Guild-only, installed to guilds: the shape every command of this bot shares. */
export function guildCommand<const C extends Omit<CommandDef, "contexts" | "integration_types">>(
  command: C,
): C & Pick<CommandDef, "contexts" | "integration_types"> {
  return {
    ...command,
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
  };
}

export function subcommand<const S extends Omit<SubcommandDef, "type">>(
  sub: S,
): S & { type: ApplicationCommandOptionType.Subcommand } {
  return { ...sub, type: ApplicationCommandOptionType.Subcommand };
}

export function subcommandGroup<const G extends Omit<SubcommandGroupDef, "type">>(
  group: G,
): G & { type: ApplicationCommandOptionType.SubcommandGroup } {
  return { ...group, type: ApplicationCommandOptionType.SubcommandGroup };
}

/** A message context-menu command, guild-only and installed to guilds like the slash commands. */
export function messageCommand<const C extends Pick<MessageCommandDef, "name" | "name_localizations">>(
  command: C,
): C & Omit<MessageCommandDef, "name" | "name_localizations"> {
  return {
    ...command,
    type: ApplicationCommandType.Message,
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
  };
}

/** The JSON Discord receives at registration. */
export function toRegistrationBody(command: CommandDef): RESTPostAPIChatInputApplicationCommandsJSONBody;
export function toRegistrationBody(
  command: MessageCommandDef,
): RESTPostAPIContextMenuApplicationCommandsJSONBody;
export function toRegistrationBody(command: CommandDef | MessageCommandDef) {
  return structuredClone(command) as unknown as
    | RESTPostAPIChatInputApplicationCommandsJSONBody
    | RESTPostAPIContextMenuApplicationCommandsJSONBody;
}
