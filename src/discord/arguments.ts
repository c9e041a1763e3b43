import { ApplicationCommandOptionType, type ChatInputCommandInteraction } from "discord.js";
import type { ArgumentsOf, AttachmentInfo, SubcommandDef } from "../../commands/define.js";

/**
 * Read a subcommand's options, typed from its command data. Absent options are `undefined`.
 * An option that arrives with another type than its data declares (a stale registration, a forged payload),
 * or an attachment Discord did not resolve, is passed on as its raw value for the validation schema to
 * refuse by name: discord.js's typed getters would throw instead. The types hold only after validation.
 */
export function readArguments<S extends SubcommandDef>(
  interaction: ChatInputCommandInteraction,
  sub: S,
): ArgumentsOf<S> {
  const out: Record<string, unknown> = {};
  for (const option of sub.options ?? []) {
    const o = interaction.options;
    const raw = o.get(option.name);
    if (raw && raw.type !== option.type) {
      out[option.name] = raw.value ?? undefined;
      continue;
    }
    switch (option.type) {
      case ApplicationCommandOptionType.String:
        out[option.name] = o.getString(option.name) ?? undefined;
        break;
      case ApplicationCommandOptionType.Integer:
        out[option.name] = o.getInteger(option.name) ?? undefined;
        break;
      case ApplicationCommandOptionType.Number:
        out[option.name] = o.getNumber(option.name) ?? undefined;
        break;
      case ApplicationCommandOptionType.Boolean:
        out[option.name] = o.getBoolean(option.name) ?? undefined;
        break;
      case ApplicationCommandOptionType.Channel:
      case ApplicationCommandOptionType.Role:
      case ApplicationCommandOptionType.User:
        // The id: who or what it names is checked against the server by the handler.
        out[option.name] = typeof raw?.value === "string" ? raw.value : undefined;
        break;
      case ApplicationCommandOptionType.Attachment: {
        const a = o.getAttachment(option.name);
        out[option.name] = a
          ? ({
              id: a.id,
              name: a.name,
              url: a.url,
              contentType: a.contentType,
              size: a.size,
            } satisfies AttachmentInfo)
          : (raw?.value ?? undefined);
        break;
      }
    }
  }
  return out as ArgumentsOf<S>;
}
