import type { AutocompleteInteraction } from "discord.js";
import { recentJobsOfUser } from "../../jobs/repository.js";
import { storedRequest } from "../../jobs/request.js";
import * as render from "../render.js";
import type { HandlerContext } from "./context.js";

/** The `job` option of `/video status` and `/video cancel`: the member's latest jobs in this server, by number. */
export async function jobAutocomplete(ctx: HandlerContext<AutocompleteInteraction>): Promise<void> {
  const { interaction, locale } = ctx;
  if (!interaction.inGuild()) return interaction.respond([]);
  const typed = String(interaction.options.getFocused() ?? "")
    .trim()
    .replace(/^#/, "");
  const rows = await recentJobsOfUser(ctx.services.db, interaction.guildId, interaction.user.id, 25);
  const choices = rows
    .filter((j) => !typed || String(j.number).startsWith(typed))
    .map((j) => ({
      name: render.autocompleteChoice(locale, {
        number: j.number,
        state: j.state,
        prompt: storedRequest(j).display.prompt,
      }),
      value: j.number,
    }));
  await interaction.respond(choices.slice(0, 25));
}
