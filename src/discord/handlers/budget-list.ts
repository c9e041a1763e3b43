import { type ChatInputCommandInteraction, MessageFlags } from "discord.js";
import { t } from "../../i18n/index.js";
import type { GuildSettingsValue } from "../../moderation/settings.js";
import { updateSettings } from "../../moderation/store.js";
import * as render from "../render.js";
import { answer } from "../respond.js";
import type { HandlerContext } from "./context.js";
import { asManager } from "./guards.js";

type Interaction = ChatInputCommandInteraction<"cached" | "raw">;

/** At most this many entries a list: they are checked on every request. */
const MAX_ENTRIES = 100;

interface ListSpec {
  /** The option that names an entry. */
  option: "channel" | "role" | "phrase";
  read(settings: GuildSettingsValue): readonly string[];
  write(
    settings: GuildSettingsValue,
    entries: string[],
    reason: string | undefined,
  ): Partial<GuildSettingsValue>;
  show(entry: string): string;
}

const SPECS: Readonly<Record<"channels" | "roles" | "blocklist", ListSpec>> = {
  channels: {
    option: "channel",
    read: (s) => s.channels,
    write: (_s, channels) => ({ channels }),
    show: (id) => `<#${id}>`,
  },
  roles: {
    option: "role",
    read: (s) => s.roles,
    write: (_s, roles) => ({ roles }),
    show: (id) => `<@&${id}>`,
  },
  blocklist: {
    option: "phrase",
    read: (s) => s.blocklist.map((b) => b.phrase),
    write: (s, phrases, reason) => ({
      blocklist: phrases.map(
        (phrase) => s.blocklist.find((b) => b.phrase === phrase) ?? { phrase, ...(reason ? { reason } : {}) },
      ),
    }),
    show: (phrase) => `\`${phrase.replace(/`/g, "'")}\``,
  },
};

/** `/budget channels|roles|blocklist add|remove|list`: the server's lists (managers only). */
export function budgetList(list: keyof typeof SPECS) {
  const spec = SPECS[list];
  return async (ctx: HandlerContext<Interaction>): Promise<void> => {
    const { interaction, locale, services: s } = ctx;
    const current = await asManager(ctx, interaction.guildId);
    if (!current) return;
    const verb = interaction.options.getSubcommand(true);
    if (verb === "list") return answer(interaction, render.settings(locale, current));
    const raw = interaction.options.get(spec.option)?.value;
    const entry = typeof raw === "string" ? raw.trim() : "";
    if (!entry) return answer(interaction, render.notice(t(locale, "list.empty")));
    const reason = interaction.options.get("reason")?.value;
    const entries = [...spec.read(current)];
    const shown = spec.show(entry);
    if (verb === "add" && entries.includes(entry))
      return answer(interaction, render.notice(t(locale, "list.already", { item: shown })));
    if (verb === "remove" && !entries.includes(entry))
      return answer(interaction, render.notice(t(locale, "list.notThere", { item: shown })));
    if (verb === "add" && entries.length >= MAX_ENTRIES)
      return answer(interaction, render.notice(t(locale, "list.full", { max: MAX_ENTRIES })));
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const saved = await updateSettings(
      s.db,
      interaction.guildId,
      (fresh) => {
        const now = spec.read(fresh).filter((e) => e !== entry);
        return spec.write(
          fresh,
          verb === "add" ? [...now, entry] : now,
          typeof reason === "string" ? reason : undefined,
        );
      },
      s.settings.defaultGuildCredits,
    );
    await answer(
      interaction,
      render.notice(t(locale, verb === "add" ? "list.added" : "list.removed", { item: shown })),
    );
    await ctx.moderation.audit(saved, interaction.guildLocale, (l) =>
      t(l, "audit.config", { actor: `<@${interaction.user.id}>`, what: `${list} ${verb} ${shown}` }),
    );
  };
}
