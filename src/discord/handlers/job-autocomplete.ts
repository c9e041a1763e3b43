import type { AutocompleteInteraction } from "discord.js";
import { recentJobsOfUser } from "../../jobs/repository.js";
import { storedRequest } from "../../jobs/request.js";
import * as render from "../render.js";
import type { HandlerContext } from "./context.js";

/** The `job` option of `/video status`: the member's latest jobs in this server. */
export async function jobAutocomplete(ctx: HandlerContext<AutocompleteInteraction>): Promise<void> {
  const { interaction, locale } = ctx;
  if (!interaction.inGuild()) return interaction.respond([]);
  const typed = String(interaction.options.getFocused() ?? "")
    .trim()
    .replace(/^#/, "");
  const rows = await recentJobsOfUser(ctx.services.db, interaction.guildId, interaction.user.id, 25);
  const choices = rows
    .filter((j) => !typed || String(j.id).startsWith(typed))
    .map((j) => ({
      name: render.autocompleteChoice(locale, {
        id: j.id,
        state: j.state,
        prompt: storedRequest(j).display.prompt,
      }),
      value: j.id,
    }));
  await interaction.respond(choices.slice(0, 25));
}
