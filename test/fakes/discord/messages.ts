import type { APIUser } from "discord.js";
import {
  cdnUrls,
  errors,
  type FieldError,
  invalidFormBody,
  MessageFlag,
  type Snowflakes,
} from "./protocol.js";

/**
 * Messages as the fake keeps them: what Discord would store, plus what a test wants to check (the bytes of
 * every attachment, `allowed_mentions` exactly as sent, who the message would have pinged, every write).
 */

/** A file part of a multipart request (`files[n]`). */
export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  content_type?: string;
  description?: string;
  title?: string;
  url: string;
  proxy_url: string;
  ephemeral?: boolean;
  /** The bytes as uploaded. */
  data: Buffer;
}

export type WriteRoute = "interaction-callback" | "webhook" | "channel";

/** One request that created or changed a message, with its body exactly as received. */
export interface MessageWrite {
  at: number;
  route: WriteRoute;
  method: string;
  path: string;
  body: Record<string, unknown>;
  files: { field: string; filename: string; contentType: string; size: number }[];
}

export interface Pings {
  everyone: boolean;
  users: string[];
  roles: string[];
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  type: number;
  author: APIUser;
  content: string;
  embeds: Record<string, unknown>[];
  components: Record<string, unknown>[];
  attachments: FakeAttachment[];
  /** From the latest write, exactly as received (undefined when that write had none). */
  allowed_mentions?: unknown;
  flags: number;
  tts: boolean;
  nonce?: string | number;
  timestamp: string;
  edited_timestamp: string | null;
  webhook_id?: string;
  application_id?: string;
  message_reference?: Record<string, unknown>;
  interaction_metadata?: Record<string, unknown>;
  /** The interaction this message answers (original response or follow-up). */
  interactionId?: string;
  ephemeral: boolean;
  deleted: boolean;
  /** Whom the message would have notified, from its content and allowed_mentions (embeds never ping). */
  pings: Pings;
  /** A reply that notified the author of the message it replies to: that author (set when created). */
  pingedRepliedUser?: string;
  createdWith: MessageWrite;
  /** Every later write, in order. */
  edits: MessageWrite[];
}

export const LIMITS = {
  content: 2000,
  embeds: 10,
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  authorName: 256,
  nonce: 25,
  actionRows: 5,
  rowComponents: 5,
  customId: 100,
  buttonLabel: 80,
  attachments: 10,
} as const;

/** Flags a message may be created with; others are dropped as Discord does. */
const CREATE_FLAGS =
  MessageFlag.SuppressEmbeds |
  MessageFlag.Ephemeral |
  MessageFlag.SuppressNotifications |
  MessageFlag.IsVoiceMessage |
  MessageFlag.IsComponentsV2;
/** Flags an edit may change (SUPPRESS_EMBEDS; IS_COMPONENTS_V2 may only be added). */
const EDIT_FLAGS = MessageFlag.SuppressEmbeds | MessageFlag.IsComponentsV2;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function tooLong(path: FieldError["path"], max: number): FieldError {
  return { path, code: "BASE_TYPE_MAX_LENGTH", message: `Must be ${max} or fewer in length.` };
}

function checkUrl(errs: FieldError[], path: FieldError["path"], value: unknown, allowAttachment: boolean) {
  if (value === undefined || value === null) return;
  if (typeof value !== "string") {
    errs.push({ path, code: "URL_TYPE_INVALID_URL", message: "Not a well formed URL." });
    return;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  const allowed = allowAttachment ? ["http", "https", "attachment"] : ["http", "https"];
  if (!scheme || !allowed.includes(scheme)) {
    errs.push({
      path,
      code: "URL_TYPE_INVALID_SCHEME",
      message: `Scheme "${scheme ?? ""}" is not supported. Scheme must be one of (${allowed.map((s) => `'${s}'`).join(", ")}).`,
    });
  }
}

function checkEmbeds(errs: FieldError[], embeds: unknown): void {
  if (embeds === undefined || embeds === null) return;
  if (!Array.isArray(embeds)) {
    errs.push({ path: ["embeds"], code: "BASE_TYPE_ARRAY", message: "Must be an array." });
    return;
  }
  if (embeds.length > LIMITS.embeds) errs.push(tooLong(["embeds"], LIMITS.embeds));
  let total = 0;
  const text = (path: FieldError["path"], value: unknown, max: number, required = false) => {
    if (value === undefined || value === null) {
      if (required) errs.push({ path, code: "BASE_TYPE_REQUIRED", message: "This field is required" });
      return;
    }
    const s = String(value);
    if (required && s.trim().length === 0) {
      errs.push({ path, code: "BASE_TYPE_REQUIRED", message: "This field is required" });
    }
    if (s.length > max) errs.push(tooLong(path, max));
    total += s.length;
  };
  embeds.forEach((embed, i) => {
    const at = (...p: (string | number)[]) => ["embeds", i, ...p];
    if (!isRecord(embed)) {
      errs.push({
        path: at(),
        code: "MODEL_TYPE_CONVERT",
        message: "Only dictionaries may be used in a ModelType",
      });
      return;
    }
    text(at("title"), embed.title, LIMITS.title);
    text(at("description"), embed.description, LIMITS.description);
    checkUrl(errs, at("url"), embed.url, false);
    if (embed.color !== undefined && embed.color !== null) {
      const c = embed.color;
      if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c > 0xffffff) {
        errs.push({
          path: at("color"),
          code: "NUMBER_TYPE_MAX",
          message: "int value should be <= 16777215.",
        });
      }
    }
    if (isRecord(embed.footer)) {
      text(at("footer", "text"), embed.footer.text, LIMITS.footer, true);
      checkUrl(errs, at("footer", "icon_url"), embed.footer.icon_url, true);
    }
    if (isRecord(embed.author)) {
      text(at("author", "name"), embed.author.name, LIMITS.authorName, true);
      checkUrl(errs, at("author", "url"), embed.author.url, false);
      checkUrl(errs, at("author", "icon_url"), embed.author.icon_url, true);
    }
    for (const media of ["image", "thumbnail"] as const) {
      const m = embed[media];
      if (isRecord(m)) checkUrl(errs, at(media, "url"), m.url, true);
    }
    if (embed.fields !== undefined) {
      if (!Array.isArray(embed.fields)) {
        errs.push({ path: at("fields"), code: "BASE_TYPE_ARRAY", message: "Must be an array." });
      } else {
        if (embed.fields.length > LIMITS.fields) errs.push(tooLong(at("fields"), LIMITS.fields));
        embed.fields.forEach((f: unknown, j: number) => {
          const field = isRecord(f) ? f : {};
          text(at("fields", j, "name"), field.name, LIMITS.fieldName, true);
          text(at("fields", j, "value"), field.value, LIMITS.fieldValue, true);
        });
      }
    }
  });
  if (total > LIMITS.embedTotal) {
    errs.push({
      path: ["embeds"],
      code: "MAX_EMBED_SIZE_EXCEEDED",
      message: `Embed size exceeds maximum size of ${LIMITS.embedTotal}`,
    });
  }
}

function checkComponents(errs: FieldError[], components: unknown, flags: number): void {
  if (components === undefined || components === null) return;
  if (!Array.isArray(components)) {
    errs.push({ path: ["components"], code: "BASE_TYPE_ARRAY", message: "Must be an array." });
    return;
  }
  // Components V2 layouts have their own, looser rules; only the classic action rows are checked here.
  if (flags & MessageFlag.IsComponentsV2) return;
  if (components.length > LIMITS.actionRows) errs.push(tooLong(["components"], LIMITS.actionRows));
  const seen = new Set<string>();
  components.forEach((row, i) => {
    if (!isRecord(row) || row.type !== 1 || !Array.isArray(row.components)) {
      errs.push({
        path: ["components", i],
        code: "UNION_TYPE_CHOICES",
        message: 'Value of field "type" must be one of (1,).',
      });
      return;
    }
    if (row.components.length > LIMITS.rowComponents) {
      errs.push(tooLong(["components", i, "components"], LIMITS.rowComponents));
    }
    row.components.forEach((c: unknown, j: number) => {
      const at = ["components", i, "components", j];
      if (!isRecord(c)) return;
      if (c.type === 2 && c.style === 5) {
        checkUrl(errs, [...at, "url"], c.url, false);
        if (c.url === undefined)
          errs.push({ path: [...at, "url"], code: "BASE_TYPE_REQUIRED", message: "This field is required" });
      } else if (c.type === 2 && c.style === 6) {
        // Premium buttons carry a sku_id, no custom_id.
      } else if (typeof c.type === "number" && c.type >= 2) {
        const id = c.custom_id;
        if (typeof id !== "string" || id.length === 0) {
          errs.push({
            path: [...at, "custom_id"],
            code: "BASE_TYPE_REQUIRED",
            message: "This field is required",
          });
        } else {
          if (id.length > LIMITS.customId) errs.push(tooLong([...at, "custom_id"], LIMITS.customId));
          if (seen.has(id)) {
            errs.push({
              path: [...at, "custom_id"],
              code: "COMPONENT_CUSTOM_ID_DUPLICATED",
              message: "Component custom id cannot be duplicated",
            });
          }
          seen.add(id);
        }
      }
      if (typeof c.label === "string" && c.label.length > LIMITS.buttonLabel) {
        errs.push(tooLong([...at, "label"], LIMITS.buttonLabel));
      }
    });
  });
}

function checkAllowedMentions(errs: FieldError[], am: unknown): void {
  if (am === undefined || am === null) return;
  if (!isRecord(am)) {
    errs.push({
      path: ["allowed_mentions"],
      code: "MODEL_TYPE_CONVERT",
      message: "Only dictionaries may be used in a ModelType",
    });
    return;
  }
  const parse = am.parse;
  if (parse !== undefined) {
    if (!Array.isArray(parse)) {
      errs.push({
        path: ["allowed_mentions", "parse"],
        code: "BASE_TYPE_ARRAY",
        message: "Must be an array.",
      });
    } else {
      parse.forEach((p: unknown, i: number) => {
        if (p !== "users" && p !== "roles" && p !== "everyone") {
          errs.push({
            path: ["allowed_mentions", "parse", i],
            code: "BASE_TYPE_CHOICES",
            message: 'Value must be one of {"everyone", "roles", "users"}.',
          });
        }
      });
    }
  }
  for (const kind of ["users", "roles"] as const) {
    const list = am[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      errs.push({ path: ["allowed_mentions", kind], code: "BASE_TYPE_ARRAY", message: "Must be an array." });
      continue;
    }
    if (list.length > 100) errs.push(tooLong(["allowed_mentions", kind], 100));
    // A documented trap: parse:["users"] together with users:[...] is rejected.
    if (Array.isArray(parse) && parse.includes(kind) && list.length > 0) {
      errs.push({
        path: ["allowed_mentions"],
        code: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        message: `parse:["${kind}"] and ${kind}: [ids...] are mutually exclusive.`,
      });
    }
  }
}

/** Checks a create/edit body against Discord's documented limits; throws 400 50035 on the first problems. */
export function validateMessageBody(body: Record<string, unknown>, mode: "create" | "edit"): void {
  const errs: FieldError[] = [];
  const content = body.content;
  if (content !== undefined && content !== null) {
    if (typeof content !== "string") {
      errs.push({ path: ["content"], code: "BASE_TYPE_STRING", message: "Must be a string." });
    } else if (content.length > LIMITS.content) {
      errs.push(tooLong(["content"], LIMITS.content));
    }
  }
  checkEmbeds(errs, body.embeds);
  checkComponents(errs, body.components, typeof body.flags === "number" ? body.flags : 0);
  checkAllowedMentions(errs, body.allowed_mentions);
  if (mode === "create" && body.nonce !== undefined && body.nonce !== null) {
    const n = body.nonce;
    if (typeof n === "string" && n.length > LIMITS.nonce) errs.push(tooLong(["nonce"], LIMITS.nonce));
    if (typeof n !== "string" && typeof n !== "number") {
      errs.push({ path: ["nonce"], code: "BASE_TYPE_STRING", message: "Must be a string or integer." });
    }
  }
  if (body.attachments !== undefined && body.attachments !== null && !Array.isArray(body.attachments)) {
    errs.push({ path: ["attachments"], code: "BASE_TYPE_ARRAY", message: "Must be an array." });
  }
  if (errs.length) throw invalidFormBody(errs);
}

/** Mentions Discord would act on, given the route's default when `allowed_mentions` is absent. */
export function computePings(
  content: string,
  allowedMentions: unknown,
  defaultParse: readonly ("users" | "roles" | "everyone")[],
): Pings {
  const am = isRecord(allowedMentions) ? allowedMentions : undefined;
  const parse = am ? (Array.isArray(am.parse) ? (am.parse as string[]) : []) : [...defaultParse];
  const explicitUsers = am && Array.isArray(am.users) ? (am.users as string[]) : [];
  const explicitRoles = am && Array.isArray(am.roles) ? (am.roles as string[]) : [];
  const userIds = [...content.matchAll(/<@!?(\d{15,21})>/g)].map((m) => m[1]!);
  const roleIds = [...content.matchAll(/<@&(\d{15,21})>/g)].map((m) => m[1]!);
  const unique = (xs: string[]) => [...new Set(xs)];
  return {
    everyone: parse.includes("everyone") && /@(everyone|here)\b/.test(content),
    users: unique(userIds.filter((id) => parse.includes("users") || explicitUsers.includes(id))),
    roles: unique(roleIds.filter((id) => parse.includes("roles") || explicitRoles.includes(id))),
  };
}

/** Discord's default mention parsing per route (see /work/shared/discord-platform.md, "Mentions"). */
export const DEFAULT_PARSE: Record<WriteRoute, readonly ("users" | "roles" | "everyone")[]> = {
  "interaction-callback": ["users"],
  webhook: ["users"],
  channel: ["users", "roles", "everyone"],
};

export interface WriteContext {
  route: WriteRoute;
  method: string;
  path: string;
  now: number;
  files: UploadedFile[];
  /** Largest single attachment accepted on this route. */
  attachmentSizeLimit: number;
}

function writeRecord(body: Record<string, unknown>, ctx: WriteContext): MessageWrite {
  return {
    at: ctx.now,
    route: ctx.route,
    method: ctx.method,
    path: ctx.path,
    body,
    files: ctx.files.map((f) => ({
      field: f.field,
      filename: f.filename,
      contentType: f.contentType,
      size: f.data.length,
    })),
  };
}

/**
 * The attachments a write leaves on the message. With an `attachments` array, it is the complete list:
 * existing ids are kept, numeric ids name the uploaded `files[n]`. Without one, uploads are appended
 * (edits) or become the attachments (creates). Uploads the array does not name are appended too.
 */
function resolveAttachments(
  ids: Snowflakes,
  existing: FakeAttachment[],
  body: Record<string, unknown>,
  ctx: WriteContext,
  channelId: string,
  ephemeral: boolean,
): FakeAttachment[] {
  for (const f of ctx.files) {
    if (f.data.length > ctx.attachmentSizeLimit) throw errors.tooLarge();
  }
  const byIndex = new Map<string, UploadedFile>();
  for (const f of ctx.files) {
    const n = /^files\[(\d+)\]$/.exec(f.field)?.[1] ?? /^file(\d*)$/.exec(f.field)?.[1];
    byIndex.set(n === undefined || n === "" ? f.field : n, f);
  }
  const used = new Set<UploadedFile>();
  const make = (f: UploadedFile, meta: Record<string, unknown>): FakeAttachment => {
    used.add(f);
    const id = ids.next();
    const filename = typeof meta.filename === "string" && meta.filename ? meta.filename : f.filename;
    return {
      id,
      filename,
      size: f.data.length,
      content_type: f.contentType,
      ...(typeof meta.description === "string" ? { description: meta.description } : {}),
      ...(typeof meta.title === "string" ? { title: meta.title } : {}),
      ...cdnUrls(ctx.now, ephemeral ? "ephemeral-attachments" : "attachments", channelId, id, filename),
      ...(ephemeral ? { ephemeral: true } : {}),
      data: f.data,
    };
  };
  let result: FakeAttachment[];
  if (Array.isArray(body.attachments)) {
    const errs: FieldError[] = [];
    result = [];
    body.attachments.forEach((entry: unknown, i: number) => {
      const meta = isRecord(entry) ? entry : {};
      const id = meta.id === undefined ? undefined : String(meta.id);
      const kept = existing.find((a) => a.id === id);
      const upload = id === undefined ? undefined : byIndex.get(id);
      if (kept) result.push(kept);
      else if (upload && !used.has(upload)) result.push(make(upload, meta));
      else {
        errs.push({
          path: ["attachments", i, "id"],
          code: "ATTACHMENT_NOT_FOUND",
          message: `Attachment id ${id ?? "(none)"} is neither on the message nor uploaded as files[${id ?? "n"}].`,
        });
      }
    });
    if (errs.length) throw invalidFormBody(errs);
    for (const f of ctx.files) if (!used.has(f)) result.push(make(f, {}));
  } else {
    result = [...existing, ...ctx.files.map((f) => make(f, {}))];
  }
  if (result.length > LIMITS.attachments)
    throw invalidFormBody([tooLong(["attachments"], LIMITS.attachments)]);
  return result;
}

function isEmpty(m: Pick<FakeMessage, "content" | "embeds" | "attachments" | "components">): boolean {
  return (
    m.content.length === 0 && m.embeds.length === 0 && m.attachments.length === 0 && m.components.length === 0
  );
}

export interface NewMessage {
  channelId: string;
  guildId?: string;
  type: number;
  author: APIUser;
  /** Start from a loading placeholder (deferred reply): allowed to be empty. */
  placeholder?: boolean;
  extraFlags?: number;
  webhookId?: string;
  applicationId?: string;
  interactionId?: string;
  interactionMetadata?: Record<string, unknown>;
}

export function createMessage(
  ids: Snowflakes,
  body: Record<string, unknown>,
  ctx: WriteContext,
  init: NewMessage,
): FakeMessage {
  validateMessageBody(body, "create");
  const flags = ((typeof body.flags === "number" ? body.flags : 0) & CREATE_FLAGS) | (init.extraFlags ?? 0);
  const ephemeral = (flags & MessageFlag.Ephemeral) !== 0;
  const id = ids.next();
  const attachments = resolveAttachments(ids, [], body, ctx, init.channelId, ephemeral);
  const message: FakeMessage = {
    id,
    channel_id: init.channelId,
    ...(init.guildId ? { guild_id: init.guildId } : {}),
    type: init.type,
    author: init.author,
    content: typeof body.content === "string" ? body.content : "",
    embeds: Array.isArray(body.embeds) ? (body.embeds as Record<string, unknown>[]) : [],
    components: Array.isArray(body.components) ? (body.components as Record<string, unknown>[]) : [],
    attachments,
    allowed_mentions: body.allowed_mentions,
    flags,
    tts: body.tts === true,
    ...(body.nonce !== undefined && body.nonce !== null ? { nonce: body.nonce as string | number } : {}),
    timestamp: new Date(ctx.now).toISOString(),
    edited_timestamp: null,
    ...(init.webhookId ? { webhook_id: init.webhookId } : {}),
    ...(init.applicationId ? { application_id: init.applicationId } : {}),
    ...(isRecord(body.message_reference) ? { message_reference: body.message_reference } : {}),
    ...(init.interactionMetadata ? { interaction_metadata: init.interactionMetadata } : {}),
    ...(init.interactionId ? { interactionId: init.interactionId } : {}),
    ephemeral,
    deleted: false,
    pings: { everyone: false, users: [], roles: [] },
    createdWith: writeRecord(body, ctx),
    edits: [],
  };
  if (!init.placeholder && isEmpty(message)) throw errors.emptyMessage();
  message.pings = computePings(message.content, body.allowed_mentions, DEFAULT_PARSE[ctx.route]);
  return message;
}

/** Applies an edit in place (after validating all of it, so a rejected edit changes nothing). */
export function editMessage(
  ids: Snowflakes,
  message: FakeMessage,
  body: Record<string, unknown>,
  ctx: WriteContext,
): FakeMessage {
  validateMessageBody(body, "edit");
  const attachments = resolveAttachments(
    ids,
    message.attachments,
    body,
    ctx,
    message.channel_id,
    message.ephemeral,
  );
  const next = {
    content: "content" in body ? (typeof body.content === "string" ? body.content : "") : message.content,
    embeds:
      "embeds" in body
        ? Array.isArray(body.embeds)
          ? (body.embeds as Record<string, unknown>[])
          : []
        : message.embeds,
    components:
      "components" in body
        ? Array.isArray(body.components)
          ? (body.components as Record<string, unknown>[])
          : []
        : message.components,
    attachments,
  };
  if (isEmpty(next)) throw errors.emptyMessage();
  Object.assign(message, next);
  // The first edit of a deferred reply replaces the "thinking…" placeholder; ephemerality never changes.
  let flags = message.flags & ~MessageFlag.Loading;
  if (typeof body.flags === "number") flags = (flags & ~EDIT_FLAGS) | (body.flags & EDIT_FLAGS);
  message.flags = flags;
  message.allowed_mentions = body.allowed_mentions;
  message.pings = computePings(message.content, body.allowed_mentions, DEFAULT_PARSE[ctx.route]);
  message.edited_timestamp = new Date(ctx.now).toISOString();
  message.edits.push(writeRecord(body, ctx));
  return message;
}

/** The message as Discord's API returns it (no bytes, no test-only fields). */
export function toApiMessage(m: FakeMessage): Record<string, unknown> {
  return {
    id: m.id,
    channel_id: m.channel_id,
    ...(m.guild_id ? { guild_id: m.guild_id } : {}),
    type: m.type,
    author: m.author,
    content: m.content,
    embeds: m.embeds,
    components: m.components,
    attachments: m.attachments.map(({ data: _data, ...a }) => a),
    flags: m.flags,
    tts: m.tts,
    ...(m.nonce !== undefined ? { nonce: m.nonce } : {}),
    timestamp: m.timestamp,
    edited_timestamp: m.edited_timestamp,
    mention_everyone: m.pings.everyone,
    mentions: m.pings.users.map((id) => ({
      id,
      username: `user${id.slice(-4)}`,
      discriminator: "0",
      global_name: null,
      avatar: null,
    })),
    mention_roles: m.pings.roles,
    pinned: false,
    ...(m.webhook_id ? { webhook_id: m.webhook_id } : {}),
    ...(m.application_id ? { application_id: m.application_id } : {}),
    ...(m.message_reference ? { message_reference: m.message_reference } : {}),
    ...(m.interaction_metadata ? { interaction_metadata: m.interaction_metadata } : {}),
  };
}
