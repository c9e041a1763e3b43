import { type REST, Routes } from "discord.js";
import type { Logger } from "../log.js";

/**
 * Tells the bot's operators — the people who run it and pay for the video service, not a server's members —
 * about what needs them: the API account ran out of credits, the API key was refused, charged failures add
 * up. One message per incident, by DM to each id in BOT_OWNER_IDS, or in one operators' channel when one is
 * set. The texts are English and do not go through the i18n catalogue: that catalogue speaks to members and
 * managers in their language; operators read the same log and README as this text.
 */

export interface OperatorIncident {
  /** What the incident is, e.g. `kling:insufficient_credits`: the operators hear of one key once. */
  key: string;
  /** What happened and what to do about it, in English. */
  text: string;
}

export interface OperatorNotifier {
  /**
   * Tell the operators, unless they were told of this key's incident already. Never throws: a failed message
   * is logged at warn, and when nobody could be told, a later report of the key tries again.
   */
  notify(incident: OperatorIncident): Promise<void>;
  /** The incident is over: the next report of this key is a new incident, told again. */
  resolve(key: string): void;
}

export interface OperatorNotifierOptions {
  rest: Pick<REST, "post">;
  /** Sent a DM each, unless `channelId` is set. */
  ownerIds: readonly string[];
  /** A channel for the operators: when set, notices go there instead of DMs. */
  channelId?: string | undefined;
  logger: Logger;
  now?: () => Date;
  /** An incident with no report for this long is over; the next report is a new one. Default 6 hours. */
  quietMs?: number;
}

const DEFAULT_QUIET_MS = 6 * 3_600_000;
/** After a notice reached nobody, the next report of its key tries again no sooner than this. */
const RETRY_AFTER_FAILURE_MS = 5 * 60_000;
/** Discord's limit on a message's content. */
const MAX_CONTENT = 2_000;

interface Incident {
  lastReportAt: number;
  told: boolean;
  /** While not told: no new attempt before this time (an attempt is under way, or has just failed). */
  nextTryAt: number;
}

export function createOperatorNotifier(options: OperatorNotifierOptions): OperatorNotifier {
  const { rest, ownerIds, channelId, logger } = options;
  const now = options.now ?? (() => new Date());
  const quietMs = options.quietMs ?? DEFAULT_QUIET_MS;
  const incidents = new Map<string, Incident>();
  const dmChannels = new Map<string, string>();

  async function post(channel: string, text: string): Promise<void> {
    const content = text.length > MAX_CONTENT ? `${text.slice(0, MAX_CONTENT - 1)}…` : text;
    // No pings, whatever the text holds (a service's error message, a server's name).
    await rest.post(Routes.channelMessages(channel), { body: { content, allowed_mentions: { parse: [] } } });
  }

  async function sendDm(ownerId: string, text: string): Promise<void> {
    let channel = dmChannels.get(ownerId);
    if (channel === undefined) {
      const opened = (await rest.post(Routes.userChannels(), { body: { recipient_id: ownerId } })) as {
        id: string;
      };
      channel = opened.id;
      dmChannels.set(ownerId, channel);
    }
    try {
      await post(channel, text);
    } catch (err) {
      dmChannels.delete(ownerId);
      throw err;
    }
  }

  /** One message to one recipient; a failure is logged, never thrown. */
  async function attempt(send: () => Promise<void>, context: object, failure: string): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (err) {
      logger.warn({ err, ...context }, failure);
      return false;
    }
  }

  /** Send to every recipient; true when at least one got it. */
  async function deliver(key: string, text: string): Promise<boolean> {
    if (channelId !== undefined) {
      return attempt(
        () => post(channelId, text),
        { key, channelId },
        "could not post an operator notice in the operators' channel",
      );
    }
    const results = await Promise.all(
      ownerIds.map((ownerId) =>
        attempt(() => sendDm(ownerId, text), { key, ownerId }, "could not send an operator notice by DM"),
      ),
    );
    return results.some(Boolean);
  }

  return {
    async notify({ key, text }) {
      const t = now().getTime();
      let incident = incidents.get(key);
      if (incident && t - incident.lastReportAt >= quietMs) incident = undefined;
      if (incident) {
        incident.lastReportAt = t;
        if (incident.told || t < incident.nextTryAt) return;
      } else {
        incident = { lastReportAt: t, told: false, nextTryAt: t };
        incidents.set(key, incident);
      }
      // Set before the first await, so that reports arriving meanwhile do not send it again.
      incident.nextTryAt = t + RETRY_AFTER_FAILURE_MS;
      if (channelId === undefined && ownerIds.length === 0) {
        incident.told = true;
        logger.warn(
          { key, text },
          "operator notice with nobody to tell: set BOT_OWNER_IDS (or OPERATOR_CHANNEL_ID)",
        );
        return;
      }
      incident.told = await deliver(key, text);
      if (incident.told) logger.info({ key }, "operators told");
      else
        logger.warn({ key, text }, "no operator could be told; the next report of this incident tries again");
    },
    resolve(key) {
      incidents.delete(key);
    },
  };
}
