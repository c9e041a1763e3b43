import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type {
  APIApplicationCommandAutocompleteInteraction,
  APIChatInputApplicationCommandInteraction,
  APIUser,
  UserFlags,
} from "discord.js";
import {
  type AttachmentSpec,
  type AutocompleteSpec,
  type ChatInputSpec,
  type ComponentSpec,
  createInteractionBuilders,
  type MessageMenuSpec,
  type ModalSubmitSpec,
} from "./builders.js";
import { CommandRegistry, type StoredCommand } from "./commands.js";
import { FakeGateway, type IdentifyRecord, shardOf } from "./gateway.js";
import {
  apiChannel,
  apiGuild,
  botMember,
  buildGuild,
  type ChannelModel,
  DEFAULT_UPLOAD_LIMIT,
  type FakeGuildConfig,
  type GuildModel,
  guildCreatePayload,
} from "./guilds.js";
import {
  createMessage,
  editMessage,
  type FakeMessage,
  toApiMessage,
  type UploadedFile,
  validateMessageBody,
  type WriteContext,
  type WriteRoute,
} from "./messages.js";
import {
  apiError,
  bucketHash,
  DiscordHttpError,
  defaultFault,
  errors,
  invalidFormBody,
  MessageFlag,
  makeBotToken,
  makeInteractionToken,
  Snowflakes,
  snowflakeTime,
} from "./protocol.js";

/**
 * A fake Discord for end-to-end tests with the real discord.js client: REST API v10 and the gateway on
 * one loopback port. It keeps what a test needs to check (every request, every message with its
 * attachment bytes and edit history, every interaction's callback) and lets a test expire tokens, inject
 * faults and rate limits, and wait for events without sleeping.
 */

export interface RateLimitRule {
  method?: string;
  /** Matched against the path after `/api/v10`, e.g. `/webhooks/123/abc/messages/@original`. */
  path: RegExp | string;
  limit: number;
  windowMs: number;
}

export interface FakeDiscordOptions {
  /** Default: one guild with one text channel. */
  guilds?: FakeGuildConfig[];
  port?: number;
  /** Clock for snowflakes, token lifetimes and nonce windows (epoch ms). Rate limits use real time. */
  now?: () => number;
  applicationId?: string;
  botUserId?: string;
  botUsername?: string;
  /** Interaction token lifetime; Discord's is 15 minutes. */
  tokenLifetimeMs?: number;
  /** Initial response deadline; Discord's is 3 s. `Infinity` turns it off. */
  callbackDeadlineMs?: number;
  /** How an expired interaction token is answered: 401 50027 (default) or 404 10015. */
  expiredTokenAnswer?: ExpiredAnswer;
  /** How long a channel-post nonce is remembered (Discord: "the past few minutes"). */
  nonceWindowMs?: number;
  /** `attachment_size_limit` the builders put in interactions (default 10 MiB). */
  attachmentSizeLimit?: number;
  /** Largest request body accepted (Discord: 25 MiB). */
  maxRequestBytes?: number;
  /** Per-bucket limit announced in X-RateLimit-* headers and enforced with 429s (default 50 per second). */
  rateLimit?: { limit: number; windowMs: number };
  /** Stricter buckets for some routes, e.g. `{ path: /^\/webhooks\//, limit: 5, windowMs: 2000 }`. */
  rateLimits?: RateLimitRule[];
  heartbeatIntervalMs?: number;
  /** Privileged intents enabled for the application (GUILD_MEMBERS 1<<1, PRESENCES 1<<8, MESSAGE_CONTENT 1<<15). */
  privilegedIntents?: number;
  /** `shards` recommended by GET /gateway/bot. */
  recommendedShards?: number;
}

export type ExpiredAnswer = "invalid-token" | "unknown-webhook";

export interface FaultSpec {
  method?: string;
  /** Matched against the path after `/api/v10`. */
  path: RegExp | string;
  /** Answer with this status instead of handling the request. Omit for a pure delay. */
  status?: number;
  /** Discord JSON error code (default for 403: 50013 Missing Permissions). */
  code?: number;
  message?: string;
  /** For 429: seconds, sent in the body and in the Retry-After header. */
  retryAfter?: number;
  global?: boolean;
  scope?: "user" | "shared" | "global";
  /** How many requests this fault applies to (default 1). */
  count?: number;
  /** Wait this long before answering (with `processFirst`: after the request took effect). */
  delayMs?: number;
  /**
   * Handle the request (create/edit the message), then answer with the fault anyway: the answer was
   * lost, so discord.js retries a request that already took effect. With `delayMs`, the answer comes late.
   */
  processFirst?: boolean;
}

export interface FaultHandle {
  readonly hits: number;
  readonly remaining: number;
  clear(): void;
}

export interface RecordedRequest {
  seq: number;
  /** Epoch ms (fake clock). */
  at: number;
  method: string;
  /** Path after `/api/v10`, tokens included. */
  path: string;
  query: Record<string, string>;
  /** Lower-case header names; Authorization is left out (see `auth`). */
  headers: Record<string, string>;
  auth: "bot" | "none" | "invalid";
  /** JSON body, or the parsed `payload_json` of a multipart body. */
  body?: unknown;
  multipart?: { fields: Record<string, string>; files: UploadedFile[] };
  /** Route template, e.g. `PATCH /webhooks/{application_id}/{token}/messages/{message_id}`. */
  route?: string;
  status?: number;
  response?: unknown;
  injected?: boolean;
  durationMs?: number;
}

export interface InteractionState {
  id: string;
  token: string;
  /** Interaction type: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  type: number;
  applicationId: string;
  guildId?: string;
  channelId: string;
  userId: string;
  payload: Record<string, unknown>;
  /** Epoch ms encoded in the interaction id. */
  createdAt: number;
  /** performance.now() when INTERACTION_CREATE was sent. */
  dispatchedAt?: number;
  /** performance.now() when the accepted callback request arrived. */
  callbackAt?: number;
  callbackType?: number;
  /** `data.flags` of the callback as sent (64 = ephemeral). */
  callbackFlags?: number;
  callbackBody?: unknown;
  original?: FakeMessage;
  followUps: FakeMessage[];
  autocompleteChoices?: unknown[];
  modal?: unknown;
  expired?: ExpiredAnswer;
  missedDeadline?: boolean;
}

export type RequestMatcher =
  | ((r: RecordedRequest) => boolean)
  | { method?: string; path?: RegExp | string; status?: number };

export interface FakeDiscord {
  /** REST base for discord.js (`new Client({ rest: { api } })`), e.g. `http://127.0.0.1:PORT/api`. */
  readonly apiUrl: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly botUserId: string;
  readonly botUser: APIUser;
  readonly guilds: readonly GuildModel[];
  readonly requests: readonly RecordedRequest[];
  readonly gateway: {
    readonly identifies: readonly IdentifyRecord[];
    readonly received: readonly { at: number; op: number; d: unknown }[];
    readonly connected: boolean;
    /** Close client connections with this code (default 4000: discord.js resumes). */
    disconnect(code?: number): void;
    requestReconnect(): void;
  };
  chatInput(spec: ChatInputSpec): APIChatInputApplicationCommandInteraction;
  autocomplete(spec: AutocompleteSpec): APIApplicationCommandAutocompleteInteraction;
  /** A click on a component of a message (pass the message as the API returns it: `apiMessage(m)`). */
  component(spec: ComponentSpec): Record<string, unknown>;
  modalSubmit(spec: ModalSubmitSpec): Record<string, unknown>;
  /** A message context-menu command used on a message (pass it as the API returns it: `apiMessage(m)`). */
  messageMenu(spec: MessageMenuSpec): Record<string, unknown>;
  /** A message as the API returns it, for a component interaction's `message`. */
  apiMessage(m: FakeMessage): Record<string, unknown>;
  /** A member's own message in a channel (something a context menu can be used on), with its files. */
  postAsMember(channelId: string, spec: MemberMessageSpec): FakeMessage;
  /** Dispatch INTERACTION_CREATE to the connected client (waits up to `timeoutMs` for a session). */
  sendInteraction(
    payload:
      | APIChatInputApplicationCommandInteraction
      | APIApplicationCommandAutocompleteInteraction
      | object,
    options?: { timeoutMs?: number },
  ): Promise<{ id: string; token: string }>;
  /** Dispatch any gateway event (to the shard of `guildId`, or shard 0). */
  dispatch(event: string, data: unknown, guildId?: string): Promise<number>;
  /** Join a guild at runtime: GUILD_CREATE is dispatched when a client is connected. */
  addGuild(config: FakeGuildConfig): Promise<GuildModel>;
  /** The bot was removed from a guild: GUILD_DELETE. */
  removeGuild(guildId: string): Promise<void>;
  expireToken(token: string, answer?: ExpiredAnswer): void;
  expireInteraction(id: string, answer?: ExpiredAnswer): void;
  inject(fault: FaultSpec): FaultHandle;
  clearFaults(): void;
  /** Current end of the request log, for `waitForRequest(m, { since })`. */
  mark(): number;
  interactionState(id: string): InteractionState | undefined;
  interactions(): InteractionState[];
  /** Any message by id, including ephemeral and deleted ones. */
  message(id: string): FakeMessage | undefined;
  /** Messages everyone sees in the channel (not ephemeral, not deleted), oldest first. */
  channelMessages(channelId: string): FakeMessage[];
  registeredCommands(guildId?: string): StoredCommand[];
  /** Resolves with the predicate's first truthy value; re-checked on every request, dispatch and change. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** Resolves with the first answered request matching (from `since`, default: all requests so far). */
  waitForRequest(
    matcher: RequestMatcher,
    options?: { timeoutMs?: number; since?: number },
  ): Promise<RecordedRequest>;
  /** ms from sending INTERACTION_CREATE to the arrival of its accepted callback. */
  callbackLatencyMs(id: string): number | undefined;
  /** A readable dump of the recent requests (tokens shortened). */
  describeRequests(last?: number): string;
  close(): Promise<void>;
}

export interface MemberMessageSpec {
  userId: string;
  content?: string;
  /** Files the member attached; `data` defaults to `size` zero bytes. */
  attachments?: (AttachmentSpec & { data?: Buffer })[];
  embeds?: Record<string, unknown>[];
}

interface Answer {
  status: number;
  body?: unknown;
}

interface Ctx {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  files: UploadedFile[];
  arrivedAt: number;
}

interface Route {
  method: string;
  template: string;
  segments: string[];
  auth: boolean;
  /** Top-level resource that scopes the rate limit bucket (channel, guild, webhook, interaction). */
  major: (p: Record<string, string>) => string;
  handle: (c: Ctx) => Answer | Promise<Answer>;
}

interface ActiveFault extends FaultSpec {
  left: number;
  hits: number;
}

interface Bucket {
  hash: string;
  limit: number;
  windowMs: number;
  remaining: number;
  resetAt: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function matchesPath(pattern: RegExp | string, path: string): boolean {
  return typeof pattern === "string" ? pattern === path : pattern.test(path);
}

function shorten(path: string): string {
  return path.replace(/[A-Za-z0-9_-]{40,}(\.[A-Za-z0-9_-]+)*/g, (t) => `${t.slice(0, 10)}…`);
}

function safeDecode(path: string): string {
  return path
    .split("/")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join("/");
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function parseBody(
  raw: Buffer,
  contentType: string | undefined,
): Promise<{ body: unknown; multipart?: { fields: Record<string, string>; files: UploadedFile[] } }> {
  if (raw.length === 0) return { body: undefined };
  const type = contentType?.toLowerCase() ?? "";
  if (type.startsWith("multipart/form-data")) {
    const form = await new Response(new Uint8Array(raw), {
      headers: { "content-type": contentType ?? "" },
    }).formData();
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    for (const [name, value] of form.entries()) {
      if (typeof value === "string") fields[name] = value;
      else {
        files.push({
          field: name,
          filename: value.name,
          contentType: value.type || "application/octet-stream",
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
    let body: unknown;
    if (fields.payload_json !== undefined) {
      try {
        body = JSON.parse(fields.payload_json);
      } catch {
        throw errors.invalidJson();
      }
    } else {
      body = { ...fields };
    }
    const { payload_json: _p, ...rest } = fields;
    return { body, multipart: { fields: rest, files } };
  }
  try {
    return { body: JSON.parse(raw.toString("utf8")) };
  } catch {
    throw errors.invalidJson();
  }
}

export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const now = options.now ?? (() => Date.now());
  const ids = new Snowflakes(now);
  const applicationId = options.applicationId ?? ids.next();
  const botUserId = options.botUserId ?? applicationId;
  const token = makeBotToken(botUserId);
  const tokenLifetimeMs = options.tokenLifetimeMs ?? 15 * 60_000;
  const callbackDeadlineMs = options.callbackDeadlineMs ?? 3_000;
  const expiredAnswer: ExpiredAnswer = options.expiredTokenAnswer ?? "invalid-token";
  const nonceWindowMs = options.nonceWindowMs ?? 5 * 60_000;
  const interactionUploadLimit = options.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
  const maxRequestBytes = options.maxRequestBytes ?? 25 * 1024 * 1024;
  const defaultRate = options.rateLimit ?? { limit: 50, windowMs: 1_000 };

  const botUser: APIUser = {
    id: botUserId,
    username: options.botUsername ?? "Kling Bot",
    discriminator: "0",
    global_name: null,
    avatar: null,
    bot: true,
    verified: true,
    mfa_enabled: false,
    flags: 0 as UserFlags,
    public_flags: 0 as UserFlags,
    banner: null,
    accent_color: null,
    locale: "en-US",
    email: null,
  };
  const ownerId = ids.next();

  const guilds: GuildModel[] = (
    options.guilds ?? [
      { id: ids.next(), name: "Test Server", channels: [{ id: ids.next(), name: "general" }] },
    ]
  ).map((g) => buildGuild(g, () => ids.next(), now()));
  const dmChannels = new Map<string, ChannelModel>();
  const users = new Map<string, APIUser>([[botUserId, botUser]]);
  const commands = new CommandRegistry(ids, applicationId);
  const interactionsById = new Map<string, InteractionState>();
  const interactionsByToken = new Map<string, InteractionState>();
  const messages = new Map<string, FakeMessage>();
  const channelOrder = new Map<string, FakeMessage[]>();
  const nonces = new Map<string, { at: number; message: FakeMessage }>();
  const requests: RecordedRequest[] = [];
  const faults: ActiveFault[] = [];
  const buckets = new Map<string, Bucket>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const changed = () => events.emit("change");
  const standInCommandIds = new Map<string, string>();

  const findChannel = (id: string): ChannelModel | undefined => {
    for (const g of guilds) {
      const c = g.channels.find((ch) => ch.id === id);
      if (c) return c;
    }
    for (const c of dmChannels.values()) if (c.id === id) return c;
    return undefined;
  };
  const guildOf = (channel: ChannelModel) =>
    channel.guildId ? guilds.find((g) => g.id === channel.guildId) : undefined;

  const dmChannel = (user: APIUser): ChannelModel => {
    users.set(user.id, user);
    let c = dmChannels.get(user.id);
    if (!c) {
      c = { id: ids.next(), name: "", type: 1, position: 0, recipient: user };
      dmChannels.set(user.id, c);
    }
    return c;
  };

  const builders = createInteractionBuilders({
    applicationId,
    ids,
    now,
    guild: (id) => guilds.find((g) => g.id === id),
    defaultGuild: () => guilds[0],
    dmChannel,
    attachmentSizeLimit: interactionUploadLimit,
    command(name, guildId, type = 1) {
      const found = commands.find(name, guildId, type);
      if (found) return found as StoredCommand & { options?: unknown[]; guild_id?: string };
      let id = standInCommandIds.get(`${type}:${name}`);
      if (!id) {
        id = ids.next();
        standInCommandIds.set(`${type}:${name}`, id);
      }
      return { id, name };
    },
  });

  let port = 0;
  const gateway = new FakeGateway({
    token,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    privilegedIntents: options.privilegedIntents ?? 0,
    resumeUrl: () => `ws://127.0.0.1:${port}`,
    readyPayload: (session) => ({
      v: 10,
      user: botUser,
      guilds: guilds
        .filter((g) => shardOf(g.id, session.shard[1]) === session.shard[0])
        .map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      session_type: "normal",
      resume_gateway_url: `ws://127.0.0.1:${port}`,
      shard: session.shard,
      application: { id: applicationId, flags: 0 },
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ["local"],
      user_settings: {},
      auth_session_id_hash: randomBytes(16).toString("base64"),
      _trace: ['["fake-gateway",{"micros":0}]'],
    }),
    guildCreates: (shard) =>
      guilds
        .filter((g) => shardOf(g.id, shard[1]) === shard[0])
        .map((g) => ({ id: g.id, payload: guildCreatePayload(g, botUser) })),
  });
  gateway.on("change", changed);

  // ---- interactions -------------------------------------------------------------------------------

  const tokenExpired = (st: InteractionState) => now() - st.createdAt >= tokenLifetimeMs;
  const expiredError = (answer: ExpiredAnswer) =>
    answer === "unknown-webhook" ? errors.unknownWebhook() : errors.invalidWebhookToken();

  /** The interaction behind a webhook token, or Discord's answer for a token that cannot be used. */
  function webhookInteraction(appId: string, tok: string): InteractionState {
    if (appId !== applicationId) throw errors.unknownWebhook();
    const st = interactionsByToken.get(tok);
    if (!st) throw errors.invalidWebhookToken();
    if (st.expired) throw expiredError(st.expired);
    if (tokenExpired(st)) throw expiredError(expiredAnswer);
    // Never acknowledged (or acknowledged too late): the interaction failed and has no webhook.
    if (st.callbackType === undefined) throw errors.unknownWebhook();
    return st;
  }

  function interactionMetadata(st: InteractionState): Record<string, unknown> {
    const data = isRecord(st.payload.data) ? st.payload.data : {};
    return {
      id: st.id,
      type: st.type,
      user: users.get(st.userId) ?? { id: st.userId },
      authorizing_integration_owners: st.payload.authorizing_integration_owners ?? {},
      ...(st.type === 2 ? { name: data.name, command_type: data.type ?? 1 } : {}),
    };
  }

  function storeMessage(m: FakeMessage): FakeMessage {
    messages.set(m.id, m);
    const list = channelOrder.get(m.channel_id) ?? [];
    list.push(m);
    channelOrder.set(m.channel_id, list);
    return m;
  }

  function writeCtx(c: Ctx, route: WriteRoute, limit: number): WriteContext {
    return { route, method: c.method, path: c.path, now: now(), files: c.files, attachmentSizeLimit: limit };
  }

  function interactionLimit(st: InteractionState): number {
    const v = st.payload.attachment_size_limit;
    return typeof v === "number" ? v : interactionUploadLimit;
  }

  function newInteractionMessage(
    st: InteractionState,
    c: Ctx,
    body: Record<string, unknown>,
    route: WriteRoute,
    type: number,
    placeholder = false,
    extraFlags = 0,
  ) {
    return createMessage(ids, body, writeCtx(c, route, interactionLimit(st)), {
      channelId: st.channelId,
      ...(st.guildId ? { guildId: st.guildId } : {}),
      type,
      author: botUser,
      placeholder,
      extraFlags,
      webhookId: applicationId,
      applicationId,
      interactionId: st.id,
      interactionMetadata: interactionMetadata(st),
    });
  }

  const ALLOWED_CALLBACKS: Record<number, number[]> = {
    1: [1],
    2: [4, 5, 9, 12],
    3: [4, 5, 6, 7, 9, 12],
    4: [8],
    5: [4, 5, 6, 7],
  };

  function callback(c: Ctx): Answer {
    const st = interactionsById.get(c.params.interaction_id!);
    if (!st || st.token !== c.params.token) throw errors.unknownInteraction();
    if (st.expired || tokenExpired(st)) throw errors.unknownInteraction();
    if (st.callbackType !== undefined) throw errors.alreadyAcknowledged();
    if (st.dispatchedAt !== undefined && c.arrivedAt - st.dispatchedAt > callbackDeadlineMs) {
      st.missedDeadline = true;
      throw errors.unknownInteraction();
    }
    const body = isRecord(c.body) ? c.body : {};
    const type = body.type;
    if (typeof type !== "number" || !(ALLOWED_CALLBACKS[st.type] ?? []).includes(type)) {
      throw invalidFormBody([
        {
          path: ["type"],
          code: "INTERACTION_RESPONSE_TYPE_INVALID",
          message: `Interaction response type ${String(type)} is not valid for interaction type ${st.type}.`,
        },
      ]);
    }
    const data = isRecord(body.data) ? body.data : {};
    const route: WriteRoute = "interaction-callback";
    const messageType = st.type === 2 ? 20 : 19;
    switch (type) {
      case 4:
        st.original = storeMessage(newInteractionMessage(st, c, data, route, messageType));
        break;
      case 5: {
        const ephemeral = typeof data.flags === "number" ? data.flags & MessageFlag.Ephemeral : 0;
        st.original = storeMessage(
          newInteractionMessage(st, c, { flags: ephemeral }, route, messageType, true, MessageFlag.Loading),
        );
        // The write that created the placeholder is the callback itself.
        st.original.createdWith.body = body;
        break;
      }
      case 6:
      case 7: {
        const source = isRecord(st.payload.message) ? messages.get(String(st.payload.message.id)) : undefined;
        if (source) {
          st.original = source;
          if (type === 7) editMessage(ids, source, data, writeCtx(c, route, interactionLimit(st)));
        }
        break;
      }
      case 8: {
        const choices = Array.isArray(data.choices) ? data.choices : [];
        if (choices.length > 25) {
          throw invalidFormBody([
            {
              path: ["data", "choices"],
              code: "BASE_TYPE_MAX_LENGTH",
              message: "Must be 25 or fewer in length.",
            },
          ]);
        }
        const errs = choices.flatMap((ch: unknown, i: number) => {
          const name = isRecord(ch) ? ch.name : undefined;
          const value = isRecord(ch) ? ch.value : undefined;
          const bad = [];
          if (typeof name !== "string" || name.length < 1 || name.length > 100) {
            bad.push({
              path: ["data", "choices", i, "name"],
              code: "BASE_TYPE_BAD_LENGTH",
              message: "Must be between 1 and 100 in length.",
            });
          }
          if (typeof value === "string" && value.length > 100) {
            bad.push({
              path: ["data", "choices", i, "value"],
              code: "BASE_TYPE_MAX_LENGTH",
              message: "Must be 100 or fewer in length.",
            });
          }
          return bad;
        });
        if (errs.length) throw invalidFormBody(errs);
        st.autocompleteChoices = choices;
        break;
      }
      case 9:
        st.modal = data;
        break;
    }
    st.callbackType = type;
    if (typeof data.flags === "number") st.callbackFlags = data.flags;
    st.callbackBody = body;
    st.callbackAt = c.arrivedAt;
    if (c.query.get("with_response") !== "true") return { status: 204 };
    const original = st.original;
    return {
      status: 200,
      body: {
        interaction: {
          id: st.id,
          type: st.type,
          ...(original
            ? {
                response_message_id: original.id,
                response_message_loading: (original.flags & MessageFlag.Loading) !== 0,
                response_message_ephemeral: original.ephemeral,
              }
            : {}),
        },
        resource: {
          type,
          ...(original && (type === 4 || type === 5 || type === 7)
            ? { message: toApiMessage(original) }
            : {}),
        },
      },
    };
  }

  function webhookMessage(st: InteractionState, messageId: string): FakeMessage {
    const m =
      messageId === "@original"
        ? st.original
        : [st.original, ...st.followUps].find((x) => x?.id === messageId);
    if (!m || m.deleted || (messageId !== "@original" && m.interactionId !== st.id))
      throw errors.unknownMessage();
    return m;
  }

  function followUp(c: Ctx): Answer {
    const st = webhookInteraction(c.params.application_id!, c.params.token!);
    const body = isRecord(c.body) ? c.body : {};
    const wait = c.query.get("wait") === "true";
    let m: FakeMessage;
    const o = st.original;
    if (st.callbackType === 5 && o && !o.deleted && o.flags & MessageFlag.Loading) {
      // Documented: right after a deferred response, a follow-up edits the loading message instead, and
      // keeps the ephemerality chosen when deferring.
      const { flags: _ignored, ...rest } = body;
      m = editMessage(ids, o, rest, writeCtx(c, "webhook", interactionLimit(st)));
    } else {
      m = storeMessage(newInteractionMessage(st, c, body, "webhook", 0));
      st.followUps.push(m);
    }
    return wait ? { status: 200, body: toApiMessage(m) } : { status: 204 };
  }

  // ---- channels -----------------------------------------------------------------------------------

  function channelOr404(id: string): ChannelModel {
    const ch = findChannel(id);
    if (!ch) throw errors.unknownChannel();
    return ch;
  }

  /** Ephemeral messages exist only for their recipient: the channel endpoints do not see them. */
  function channelMessage(channelId: string, messageId: string): FakeMessage {
    channelOr404(channelId);
    const m = messages.get(messageId);
    if (!m || m.deleted || m.ephemeral || m.channel_id !== channelId) throw errors.unknownMessage();
    return m;
  }

  function uploadLimit(ch: ChannelModel): number {
    return guildOf(ch)?.uploadLimit ?? DEFAULT_UPLOAD_LIMIT;
  }

  function postChannelMessage(c: Ctx): Answer {
    const ch = channelOr404(c.params.channel_id!);
    const body = isRecord(c.body) ? c.body : {};
    validateMessageBody(body, "create");
    const nonce = body.nonce;
    const nonceKey = typeof nonce === "string" || typeof nonce === "number" ? String(nonce) : undefined;
    if (nonceKey !== undefined && body.enforce_nonce === true) {
      const seen = nonces.get(nonceKey);
      if (seen && now() - seen.at < nonceWindowMs && !seen.message.deleted) {
        return { status: 200, body: toApiMessage(seen.message) };
      }
    }
    const ref = isRecord(body.message_reference) ? body.message_reference : undefined;
    if (ref) {
      const target = messages.get(String(ref.message_id));
      const ok =
        target && !target.deleted && !target.ephemeral && target.channel_id === (ref.channel_id ?? ch.id);
      if (!ok && ref.fail_if_not_exists !== false) {
        throw invalidFormBody([
          {
            path: ["message_reference"],
            code: "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
            message: "Unknown message",
          },
        ]);
      }
    }
    const m = storeMessage(
      createMessage(ids, body, writeCtx(c, "channel", uploadLimit(ch)), {
        channelId: ch.id,
        ...(ch.guildId ? { guildId: ch.guildId } : {}),
        type: ref ? 19 : 0,
        author: botUser,
      }),
    );
    // A reply pings the author of the message it replies to, unless allowed_mentions says otherwise: when
    // present, only `replied_user: true` pings them.
    const repliedTo = ref ? messages.get(String(ref.message_id)) : undefined;
    const am = isRecord(body.allowed_mentions) ? body.allowed_mentions : undefined;
    if (repliedTo && (am === undefined || am.replied_user === true)) {
      m.pingedRepliedUser = repliedTo.author.id;
      m.pings.users = [...new Set([...m.pings.users, repliedTo.author.id])];
    }
    if (nonceKey !== undefined && body.enforce_nonce === true)
      nonces.set(nonceKey, { at: now(), message: m });
    return { status: 200, body: toApiMessage(m) };
  }

  // ---- commands -----------------------------------------------------------------------------------

  function commandScope(c: Ctx): string | undefined {
    if (c.params.application_id !== applicationId) throw errors.missingAccess();
    const guildId = c.params.guild_id;
    if (guildId !== undefined && !guilds.some((g) => g.id === guildId)) throw errors.missingAccess();
    return guildId;
  }

  const application = () => ({
    id: applicationId,
    name: botUser.username,
    icon: null,
    description: "",
    summary: "",
    type: null,
    bot: botUser,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: randomBytes(32).toString("hex"),
    flags: 0,
    owner: { id: ownerId, username: "owner", discriminator: "0", global_name: null, avatar: null, flags: 0 },
    team: null,
    approximate_guild_count: guilds.length,
    redirect_uris: [],
    interactions_endpoint_url: null,
    tags: [],
    integration_types_config: { "0": {} },
  });

  // ---- routes -------------------------------------------------------------------------------------

  const routes: Route[] = [];
  const route = (
    method: string,
    template: string,
    auth: boolean,
    handle: Route["handle"],
    major: Route["major"] = () => "",
  ) => routes.push({ method, template, segments: template.split("/").slice(1), auth, handle, major });
  const byChannel = (p: Record<string, string>) => p.channel_id ?? "";
  const byGuild = (p: Record<string, string>) => p.guild_id ?? "";
  const byWebhook = (p: Record<string, string>) => `${p.application_id}:${p.token}`;
  const byInteraction = (p: Record<string, string>) => `${p.interaction_id}:${p.token}`;
  const gatewayUrl = () => `ws://127.0.0.1:${port}`;

  route("GET", "/gateway", false, () => ({ status: 200, body: { url: gatewayUrl() } }));
  route("GET", "/gateway/bot", true, () => ({
    status: 200,
    body: {
      url: gatewayUrl(),
      shards: options.recommendedShards ?? 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    },
  }));
  route("GET", "/users/@me", true, () => ({ status: 200, body: botUser }));
  route("GET", "/users/{user_id}", true, (c) => {
    const u = users.get(c.params.user_id!);
    if (!u) throw errors.unknownUser();
    return { status: 200, body: u };
  });
  // Open a DM: the same channel every time for one user. A user the fake has not seen is made up on the spot
  // (Discord would check that the user exists and shares a server with the bot); closed DMs are a 403 50007 on
  // the message post, which a test injects.
  route("POST", "/users/@me/channels", true, (c) => {
    const recipient = isRecord(c.body) ? c.body.recipient_id : undefined;
    if (typeof recipient !== "string" || !/^\d{17,20}$/.test(recipient)) {
      throw invalidFormBody([
        {
          path: ["recipient_id"],
          code: "NUMBER_TYPE_COERCE",
          message: `Value "${String(recipient)}" is not snowflake.`,
        },
      ]);
    }
    if (recipient === botUserId) throw apiError(400, 50007, "Cannot send messages to this user");
    const user = users.get(recipient) ?? {
      id: recipient,
      username: `user${recipient.slice(-4)}`,
      discriminator: "0",
      global_name: null,
      avatar: null,
    };
    return { status: 200, body: apiChannel(dmChannel(user), botUserId) };
  });
  // The bot leaves a server: gone from its list of servers, and the gateway says so (GUILD_DELETE).
  route("DELETE", "/users/@me/guilds/{guild_id}", true, (c) => {
    dropGuild(guildOr404(c.params.guild_id!).id);
    return { status: 204 };
  });
  route("GET", "/applications/@me", true, () => ({ status: 200, body: application() }));
  route("GET", "/oauth2/applications/@me", true, () => ({ status: 200, body: application() }));

  for (const base of ["/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"]) {
    const major = base.includes("guild") ? byGuild : () => "";
    route(
      "GET",
      `${base}/commands`,
      true,
      (c) => ({ status: 200, body: commands.list(commandScope(c)) }),
      major,
    );
    route(
      "PUT",
      `${base}/commands`,
      true,
      (c) => {
        const scope = commandScope(c);
        commands.validate(c.body, true);
        return { status: 200, body: commands.overwrite(c.body as unknown[], scope) };
      },
      major,
    );
    route(
      "POST",
      `${base}/commands`,
      true,
      (c) => {
        const scope = commandScope(c);
        commands.validate(c.body, false);
        const { command, created } = commands.upsert(c.body as Record<string, unknown>, scope);
        return { status: created ? 201 : 200, body: command };
      },
      major,
    );
    route(
      "GET",
      `${base}/commands/{command_id}`,
      true,
      (c) => {
        const found = commands.list(commandScope(c)).find((x) => x.id === c.params.command_id);
        if (!found) throw errors.unknownCommand();
        return { status: 200, body: found };
      },
      major,
    );
    route(
      "DELETE",
      `${base}/commands/{command_id}`,
      true,
      (c) => {
        if (!commands.remove(c.params.command_id!, commandScope(c))) throw errors.unknownCommand();
        return { status: 204 };
      },
      major,
    );
  }

  /** The bot is no longer in a guild (it left, or was removed): GUILD_DELETE to the session that had it. */
  const dropGuild = (guildId: string) => {
    guilds.splice(
      guilds.findIndex((g) => g.id === guildId),
      1,
    );
    const session = gateway.sessionFor(guildId);
    if (session) gateway.dispatch(session, "GUILD_DELETE", { id: guildId });
    changed();
  };
  const guildOr404 = (id: string) => {
    const g = guilds.find((x) => x.id === id);
    if (!g) throw errors.unknownGuild();
    return g;
  };
  route(
    "GET",
    "/guilds/{guild_id}",
    true,
    (c) => ({ status: 200, body: apiGuild(guildOr404(c.params.guild_id!), botUserId) }),
    byGuild,
  );
  route(
    "GET",
    "/guilds/{guild_id}/channels",
    true,
    (c) => ({
      status: 200,
      body: guildOr404(c.params.guild_id!).channels.map((ch) => apiChannel(ch, botUserId)),
    }),
    byGuild,
  );
  route(
    "GET",
    "/guilds/{guild_id}/members/{user_id}",
    true,
    (c) => {
      const g = guildOr404(c.params.guild_id!);
      if (c.params.user_id !== botUserId) throw apiError(404, 10007, "Unknown Member");
      return { status: 200, body: botMember(g, botUser) };
    },
    byGuild,
  );

  route(
    "GET",
    "/channels/{channel_id}",
    true,
    (c) => ({ status: 200, body: apiChannel(channelOr404(c.params.channel_id!), botUserId) }),
    byChannel,
  );
  route(
    "GET",
    "/channels/{channel_id}/messages",
    true,
    (c) => {
      channelOr404(c.params.channel_id!);
      const limit = Math.min(100, Math.max(1, Number(c.query.get("limit") ?? 50)));
      const visible = (channelOrder.get(c.params.channel_id!) ?? []).filter(
        (m) => !m.deleted && !m.ephemeral,
      );
      return { status: 200, body: visible.slice(-limit).reverse().map(toApiMessage) };
    },
    byChannel,
  );
  route("POST", "/channels/{channel_id}/messages", true, postChannelMessage, byChannel);
  route(
    "GET",
    "/channels/{channel_id}/messages/{message_id}",
    true,
    (c) => ({ status: 200, body: toApiMessage(channelMessage(c.params.channel_id!, c.params.message_id!)) }),
    byChannel,
  );
  route(
    "PATCH",
    "/channels/{channel_id}/messages/{message_id}",
    true,
    (c) => {
      const m = channelMessage(c.params.channel_id!, c.params.message_id!);
      if (m.author.id !== botUserId) throw errors.notAuthor();
      const body = isRecord(c.body) ? c.body : {};
      editMessage(ids, m, body, writeCtx(c, "channel", uploadLimit(channelOr404(m.channel_id))));
      return { status: 200, body: toApiMessage(m) };
    },
    byChannel,
  );
  route(
    "DELETE",
    "/channels/{channel_id}/messages/{message_id}",
    true,
    (c) => {
      channelMessage(c.params.channel_id!, c.params.message_id!).deleted = true;
      return { status: 204 };
    },
    byChannel,
  );

  route("POST", "/interactions/{interaction_id}/{token}/callback", false, callback, byInteraction);
  route("POST", "/webhooks/{application_id}/{token}", false, followUp, byWebhook);
  route(
    "GET",
    "/webhooks/{application_id}/{token}/messages/{message_id}",
    false,
    (c) => {
      const st = webhookInteraction(c.params.application_id!, c.params.token!);
      return { status: 200, body: toApiMessage(webhookMessage(st, c.params.message_id!)) };
    },
    byWebhook,
  );
  route(
    "PATCH",
    "/webhooks/{application_id}/{token}/messages/{message_id}",
    false,
    (c) => {
      const st = webhookInteraction(c.params.application_id!, c.params.token!);
      const m = webhookMessage(st, c.params.message_id!);
      editMessage(ids, m, isRecord(c.body) ? c.body : {}, writeCtx(c, "webhook", interactionLimit(st)));
      return { status: 200, body: toApiMessage(m) };
    },
    byWebhook,
  );
  route(
    "DELETE",
    "/webhooks/{application_id}/{token}/messages/{message_id}",
    false,
    (c) => {
      const st = webhookInteraction(c.params.application_id!, c.params.token!);
      webhookMessage(st, c.params.message_id!).deleted = true;
      return { status: 204 };
    },
    byWebhook,
  );

  function matchRoute(
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | "method" | undefined {
    const parts = path.split("/").slice(1);
    let pathMatched = false;
    for (const r of routes) {
      if (r.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = r.segments.every((seg, i) => {
        const part = parts[i]!;
        if (seg.startsWith("{")) {
          // Literal segments ("@me") must not be captured by a parameter of another route.
          if (part === "@me" && seg !== "{message_id}") return false;
          params[seg.slice(1, -1)] = part;
          return part.length > 0;
        }
        return seg === part;
      });
      if (!ok) continue;
      pathMatched = true;
      if (r.method === method) return { route: r, params };
    }
    return pathMatched ? "method" : undefined;
  }

  // ---- rate limits and faults ---------------------------------------------------------------------

  function bucketFor(method: string, path: string, r: Route, params: Record<string, string>): Bucket {
    const ruleIndex = (options.rateLimits ?? []).findIndex(
      (rule) => (!rule.method || rule.method.toUpperCase() === method) && matchesPath(rule.path, path),
    );
    const rule = ruleIndex >= 0 ? options.rateLimits![ruleIndex]! : undefined;
    const hash = bucketHash(rule ? `rule:${ruleIndex}` : `${r.method} ${r.template}`);
    const key = `${hash}:${r.major(params)}`;
    let b = buckets.get(key);
    if (!b) {
      const { limit, windowMs } = rule ?? defaultRate;
      b = { hash, limit, windowMs, remaining: limit, resetAt: 0 };
      buckets.set(key, b);
    }
    return b;
  }

  function bucketHeaders(b: Bucket, t: number): Record<string, string> {
    return {
      "X-RateLimit-Limit": String(b.limit),
      "X-RateLimit-Remaining": String(Math.max(0, b.remaining)),
      "X-RateLimit-Reset": (b.resetAt / 1000).toFixed(3),
      "X-RateLimit-Reset-After": (Math.max(0, b.resetAt - t) / 1000).toFixed(3),
      "X-RateLimit-Bucket": b.hash,
    };
  }

  /**
   * A 429 as Discord sends it. Retry-After carries the exact seconds (Discord rounds it up to whole
   * seconds; exact values keep tests fast and discord.js parses either).
   */
  function rateLimited(retryAfter: number, global: boolean, scope: string, b?: Bucket): DiscordHttpError {
    const t = Date.now();
    const headers: Record<string, string> = { "Retry-After": String(retryAfter), "X-RateLimit-Scope": scope };
    if (global) headers["X-RateLimit-Global"] = "true";
    else if (b) {
      Object.assign(headers, bucketHeaders({ ...b, remaining: 0, resetAt: t + retryAfter * 1000 }, t));
    }
    return new DiscordHttpError(
      429,
      { message: "You are being rate limited.", retry_after: retryAfter, global },
      headers,
    );
  }

  function faultError(f: ActiveFault, b: Bucket | undefined): DiscordHttpError {
    const status = f.status!;
    if (status === 429) {
      return rateLimited(
        f.retryAfter ?? 0.5,
        f.global === true,
        f.global ? "global" : (f.scope ?? "user"),
        b,
      );
    }
    return defaultFault(status, f.code, f.message);
  }

  function takeFault(method: string, path: string): ActiveFault | undefined {
    const f = faults.find(
      (x) => x.left > 0 && (!x.method || x.method.toUpperCase() === method) && matchesPath(x.path, path),
    );
    if (f) {
      f.left--;
      f.hits++;
    }
    return f;
  }

  // ---- HTTP ---------------------------------------------------------------------------------------

  let seq = 0;
  const pendingDelays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          pendingDelays.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      pendingDelays.add(entry);
    });

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) {
    if (res.destroyed) return;
    if (status === 204 || body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const arrivedAt = performance.now();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://fake");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === "authorization" || v === undefined) continue;
      headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    const authHeader = req.headers.authorization;
    const auth: RecordedRequest["auth"] = !authHeader
      ? "none"
      : authHeader === `Bot ${token}`
        ? "bot"
        : "invalid";
    // discord.js percent-encodes "@" (`%40original`); Discord, like the fake, matches the decoded path.
    const path = safeDecode(url.pathname.replace(/^\/api(\/v\d+)?/, "")) || "/";
    const record: RecordedRequest = {
      seq: ++seq,
      at: now(),
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers,
      auth,
    };
    requests.push(record);

    let status = 500;
    let body: unknown;
    let outHeaders: Record<string, string> = {};
    try {
      if (!url.pathname.startsWith("/api")) throw errors.notFound();
      const raw = await readBody(req);
      if (raw.length > maxRequestBytes) throw errors.tooLarge();
      const parsed = await parseBody(raw, req.headers["content-type"]);
      record.body = parsed.body;
      if (parsed.multipart) record.multipart = parsed.multipart;

      const matched = matchRoute(method, path);
      if (matched === "method") throw errors.methodNotAllowed();
      if (!matched) throw errors.notFound();
      const { route: r, params } = matched;
      record.route = `${r.method} ${r.template}`;

      const fault = takeFault(method, path);
      // A fault that lets the request take effect delays its answer, not the request: a late answer.
      if (fault?.delayMs && !fault.processFirst) await delay(fault.delayMs);
      if (r.auth && auth !== "bot") throw errors.unauthorized();

      const bucket = bucketFor(method, path, r, params);
      const t = Date.now();
      if (t >= bucket.resetAt) {
        bucket.remaining = bucket.limit;
        bucket.resetAt = t + bucket.windowMs;
      }
      if (fault?.status !== undefined && !fault.processFirst) {
        record.injected = true;
        throw faultError(fault, bucket);
      }
      if (bucket.remaining <= 0) throw rateLimited((bucket.resetAt - t) / 1000, false, "user", bucket);
      bucket.remaining--;
      outHeaders = bucketHeaders(bucket, t);

      const answer = await r.handle({
        method,
        path,
        params,
        query: url.searchParams,
        body: parsed.body,
        files: parsed.multipart?.files ?? [],
        arrivedAt,
      });
      if (fault?.processFirst) {
        if (fault.delayMs) {
          // What the request did is there to see while its answer is still on its way.
          changed();
          await delay(fault.delayMs);
        }
        if (fault.status !== undefined) {
          record.injected = true;
          throw faultError(fault, bucket);
        }
      }
      status = answer.status;
      body = answer.body;
    } catch (err) {
      if (err instanceof DiscordHttpError) {
        status = err.status;
        body = err.body;
        outHeaders = { ...outHeaders, ...err.headers };
      } else {
        status = 500;
        body = { message: "500: Internal Server Error", code: 0 };
        record.response = { fakeError: String(err instanceof Error ? (err.stack ?? err.message) : err) };
      }
    }
    record.status = status;
    record.response ??= body;
    record.durationMs = performance.now() - arrivedAt;
    send(res, status, body, outHeaders);
    changed();
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on("upgrade", (req, socket, head) => {
    if (req.url?.startsWith("/api")) {
      socket.destroy();
      return;
    }
    gateway.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const apiUrl = `http://127.0.0.1:${port}/api`;

  // ---- the handle ---------------------------------------------------------------------------------

  function describeRequests(last = 25): string {
    const lines = requests.slice(-last).map((r) => {
      const q = Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : "";
      const code =
        isRecord(r.response) && typeof r.response.code === "number" && r.status! >= 400
          ? ` code ${r.response.code}`
          : "";
      return `  #${r.seq} ${r.method} ${shorten(r.path)}${q} → ${r.status ?? "(pending)"}${code}${r.injected ? " [injected]" : ""}`;
    });
    return lines.length
      ? `Recent requests to the fake Discord:\n${lines.join("\n")}`
      : "No requests reached the fake Discord.";
  }

  function waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let value: T | undefined | null | false;
        try {
          value = predicate();
        } catch (err) {
          cleanup();
          reject(err);
          return;
        }
        if (value) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Discord: waitFor timed out after ${timeoutMs} ms.\n${describeRequests()}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        events.off("change", check);
      };
      events.on("change", check);
      check();
    });
  }

  function requestMatches(m: RequestMatcher, r: RecordedRequest): boolean {
    if (r.status === undefined) return false;
    if (typeof m === "function") return m(r);
    return (
      (!m.method || m.method.toUpperCase() === r.method) &&
      (m.path === undefined || matchesPath(m.path, r.path)) &&
      (m.status === undefined || m.status === r.status)
    );
  }

  function registerInteraction(p: Record<string, unknown>): InteractionState {
    const id = String(p.id);
    const existing = interactionsById.get(id);
    if (existing) return existing;
    const member = isRecord(p.member) ? p.member : undefined;
    const invoker = (isRecord(member?.user) ? member.user : isRecord(p.user) ? p.user : undefined) as
      | APIUser
      | undefined;
    if (invoker) users.set(invoker.id, invoker);
    const channel = isRecord(p.channel) ? p.channel : undefined;
    const channelId = String(p.channel_id ?? channel?.id ?? "");
    if (channel?.type === 1 && invoker && !findChannel(channelId)) {
      dmChannels.set(invoker.id, { id: channelId, name: "", type: 1, position: 0, recipient: invoker });
    }
    const st: InteractionState = {
      id,
      token: String(p.token),
      type: Number(p.type),
      applicationId: String(p.application_id ?? applicationId),
      ...(typeof p.guild_id === "string" ? { guildId: p.guild_id } : {}),
      channelId,
      userId: invoker?.id ?? "",
      payload: p,
      createdAt: snowflakeTime(id),
      followUps: [],
    };
    interactionsById.set(id, st);
    interactionsByToken.set(st.token, st);
    return st;
  }

  let closed = false;
  const handle_: FakeDiscord = {
    apiUrl,
    get gatewayUrl() {
      return gatewayUrl();
    },
    token,
    applicationId,
    botUserId,
    botUser,
    guilds,
    requests,
    gateway: {
      get identifies() {
        return gateway.identifies;
      },
      get received() {
        return gateway.received;
      },
      get connected() {
        return gateway.connected;
      },
      disconnect: (code) => gateway.disconnect(code),
      requestReconnect: () => gateway.requestReconnect(),
    },
    chatInput: (spec) => builders.chatInput(spec),
    autocomplete: (spec) => builders.autocomplete(spec),
    component: (spec) => builders.component(spec),
    modalSubmit: (spec) => builders.modalSubmit(spec),
    messageMenu: (spec) => builders.messageMenu(spec),
    apiMessage: (m) => toApiMessage(m) as unknown as Record<string, unknown>,
    postAsMember(channelId, spec) {
      const ch = findChannel(channelId);
      if (!ch) throw new Error(`fake Discord: postAsMember: unknown channel ${channelId}`);
      const author: APIUser = users.get(spec.userId) ?? {
        id: spec.userId,
        username: `member${spec.userId.slice(-4)}`,
        discriminator: "0",
        global_name: null,
        avatar: null,
      };
      users.set(author.id, author);
      const files = (spec.attachments ?? []).map((a, i) => ({
        field: `files[${i}]`,
        filename: a.filename,
        contentType: a.content_type ?? "application/octet-stream",
        data: a.data ?? Buffer.alloc(a.size),
      }));
      const path = `/channels/${channelId}/messages`;
      const body = { content: spec.content ?? "", embeds: spec.embeds ?? [] };
      const write = {
        route: "channel" as const,
        method: "POST",
        path,
        now: now(),
        files,
        attachmentSizeLimit: Infinity,
      };
      const m = storeMessage(
        createMessage(ids, body, write, {
          channelId,
          ...(ch.guildId ? { guildId: ch.guildId } : {}),
          type: 0,
          author,
        }),
      );
      changed();
      return m;
    },
    async sendInteraction(payload, opts = {}) {
      const p = { ...(payload as Record<string, unknown>) };
      if (typeof p.id !== "string") p.id = ids.next();
      if (typeof p.token !== "string") p.token = makeInteractionToken(p.id as string);
      p.application_id ??= applicationId;
      p.version ??= 1;
      const guildId = typeof p.guild_id === "string" ? p.guild_id : undefined;
      const session = await gateway.waitForSession(guildId, opts.timeoutMs ?? 5_000);
      const st = registerInteraction(p);
      st.dispatchedAt ??= performance.now();
      gateway.dispatch(session, "INTERACTION_CREATE", p);
      changed();
      return { id: st.id, token: st.token };
    },
    async dispatch(event, data, guildId) {
      const session = await gateway.waitForSession(guildId, 5_000);
      const s = gateway.dispatch(session, event, data);
      changed();
      return s;
    },
    async addGuild(config) {
      const g = buildGuild(config, () => ids.next(), now());
      guilds.push(g);
      const session = gateway.sessionFor(g.id);
      if (session) gateway.dispatch(session, "GUILD_CREATE", guildCreatePayload(g, botUser));
      changed();
      return g;
    },
    async removeGuild(guildId) {
      if (!guilds.some((g) => g.id === guildId)) {
        throw new Error(`fake Discord: guild ${guildId} is not configured`);
      }
      dropGuild(guildId);
    },
    expireToken(tok, answer = expiredAnswer) {
      const st = interactionsByToken.get(tok);
      if (!st) throw new Error("fake Discord: expireToken: no interaction has this token");
      st.expired = answer;
      changed();
    },
    expireInteraction(id, answer = expiredAnswer) {
      const st = interactionsById.get(id);
      if (!st) throw new Error(`fake Discord: expireInteraction: unknown interaction ${id}`);
      st.expired = answer;
      changed();
    },
    inject(fault) {
      const f: ActiveFault = { ...fault, left: fault.count ?? 1, hits: 0 };
      faults.push(f);
      return {
        get hits() {
          return f.hits;
        },
        get remaining() {
          return f.left;
        },
        clear() {
          f.left = 0;
        },
      };
    },
    clearFaults() {
      for (const f of faults) f.left = 0;
      faults.length = 0;
    },
    mark: () => requests.length,
    interactionState: (id) => interactionsById.get(id),
    interactions: () => [...interactionsById.values()],
    message: (id) => messages.get(id),
    channelMessages: (channelId) =>
      (channelOrder.get(channelId) ?? []).filter((m) => !m.deleted && !m.ephemeral),
    registeredCommands: (guildId) => commands.list(guildId),
    waitFor,
    waitForRequest(matcher, opts = {}) {
      const since = opts.since ?? 0;
      return waitFor(
        () => requests.slice(since).find((r) => requestMatches(matcher, r)),
        opts.timeoutMs ?? 5_000,
      );
    },
    callbackLatencyMs(id) {
      const st = interactionsById.get(id);
      if (st?.callbackAt === undefined || st.dispatchedAt === undefined) return undefined;
      return st.callbackAt - st.dispatchedAt;
    },
    describeRequests,
    async close() {
      if (closed) return;
      closed = true;
      for (const d of pendingDelays) {
        clearTimeout(d.timer);
        d.resolve();
      }
      pendingDelays.clear();
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      events.removeAllListeners();
    },
  };
  return handle_;
}
