/** The languages the bot speaks. Discord's locale code for Japanese is `ja`, as is ours. */
export type Locale = "en" | "ja";

export const LOCALES: readonly Locale[] = ["en", "ja"];

/** The bot's language for a Discord locale (`ja`, `en-US`, `pt-BR` …): Japanese for `ja`, English otherwise. */
export function localeOf(discordLocale: string | null | undefined): Locale {
  const code = (discordLocale ?? "").trim().toLowerCase();
  return code === "ja" || code.startsWith("ja-") ? "ja" : "en";
}
