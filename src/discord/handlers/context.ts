import type { Locale } from "../../i18n/locale.js";
import type { JobServices } from "../../jobs/services.js";
import type { Logger } from "../../log.js";

/** What every handler is handed: the job services, the log, and the member's language. */
export interface HandlerContext<I> {
  services: JobServices;
  logger: Logger;
  locale: Locale;
  interaction: I;
}
