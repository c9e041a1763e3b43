import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, WebSocket, WebSocketServer } from "ws";

/**
 * Discord's gateway, version 10, JSON encoding, uncompressed (discord.js only asks for zlib-stream when
 * zlib-sync is installed). HELLO on connect, heartbeat ACKs, IDENTIFY → READY then one GUILD_CREATE per
 * guild of the shard, RESUME with replay of missed dispatches, and the documented close codes.
 */

export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

export const CloseCode = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidShard: 4010,
  InvalidApiVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const;

/** GUILD_MEMBERS, GUILD_PRESENCES and MESSAGE_CONTENT must be enabled in the developer portal. */
const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15);

export interface IdentifyRecord {
  at: number;
  intents: number;
  shard: [number, number];
  properties: unknown;
  compress: unknown;
  large_threshold?: unknown;
  presence?: unknown;
}

interface Dispatched {
  op: 0;
  t: string;
  s: number;
  d: unknown;
}

interface Connection {
  ws: WebSocket;
  session?: Session;
}

export interface Session {
  id: string;
  shard: [number, number];
  seq: number;
  /** Sent dispatches, kept for RESUME. */
  log: Dispatched[];
  connection?: Connection;
}

export interface GatewayHooks {
  token: string;
  heartbeatIntervalMs: number;
  /** Privileged intents the application has enabled (bitfield). */
  privilegedIntents: number;
  resumeUrl(): string;
  readyPayload(session: Session): unknown;
  guildCreates(shard: [number, number]): { id: string; payload: unknown }[];
}

export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

export class FakeGateway extends EventEmitter {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly sessions = new Map<string, Session>();
  readonly identifies: IdentifyRecord[] = [];
  /** Every payload a client sent (IDENTIFY/RESUME without the token). */
  readonly received: { at: number; op: number; d: unknown }[] = [];

  private readonly hooks: GatewayHooks;

  constructor(hooks: GatewayHooks) {
    super();
    this.hooks = hooks;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  /** The identified session that receives events for this guild (shard 0 for DMs). */
  sessionFor(guildId: string | undefined): Session | undefined {
    for (const s of this.sessions.values()) {
      if (!s.connection) continue;
      const [id, count] = s.shard;
      if (guildId === undefined ? id === 0 : shardOf(guildId, count) === id) return s;
    }
    return undefined;
  }

  get connected(): boolean {
    return [...this.sessions.values()].some((s) => s.connection);
  }

  /** Resolves with the session for this guild once one has identified. */
  waitForSession(guildId: string | undefined, timeoutMs: number): Promise<Session> {
    const found = this.sessionFor(guildId);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onReady = () => {
        const s = this.sessionFor(guildId);
        if (!s) return;
        clearTimeout(timer);
        this.off("session", onReady);
        resolve(s);
      };
      const timer = setTimeout(() => {
        this.off("session", onReady);
        reject(
          new Error(
            `fake Discord: no gateway session identified within ${timeoutMs} ms (is the client logged in?)`,
          ),
        );
      }, timeoutMs);
      this.on("session", onReady);
    });
  }

  dispatch(session: Session, t: string, d: unknown): number {
    const payload: Dispatched = { op: Op.Dispatch, t, s: ++session.seq, d };
    session.log.push(payload);
    if (session.log.length > 1000) session.log.shift();
    if (session.connection) this.send(session.connection.ws, payload);
    return payload.s;
  }

  /** Close every client connection with this code (4000 makes discord.js resume). */
  disconnect(code: number = CloseCode.UnknownError, reason = "fake Discord asked to disconnect"): void {
    for (const ws of this.wss.clients) ws.close(code, reason);
  }

  /** Ask connected clients to reconnect and resume (op 7). */
  requestReconnect(): void {
    for (const ws of this.wss.clients) this.send(ws, { op: Op.Reconnect, d: null });
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private send(ws: WebSocket, payload: { op: number; d: unknown; s?: number | null; t?: string | null }) {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ s: null, t: null, ...payload }));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage) {
    const query = new URL(req.url ?? "/", "ws://fake").searchParams;
    const v = query.get("v");
    if (v !== null && v !== "10" && v !== "9") {
      ws.close(CloseCode.InvalidApiVersion, "Invalid API version");
      return;
    }
    const encoding = query.get("encoding");
    if (encoding !== null && encoding !== "json") {
      ws.close(CloseCode.DecodeError, "Only the json encoding is supported by the fake");
      return;
    }
    const conn: Connection = { ws };
    ws.on("message", (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on("close", () => {
      if (conn.session?.connection === conn) conn.session.connection = undefined;
      this.emit("change");
    });
    ws.on("error", () => {});
    this.send(ws, {
      op: Op.Hello,
      d: { heartbeat_interval: this.hooks.heartbeatIntervalMs, _trace: ["fake-gateway"] },
    });
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean) {
    let payload: { op?: unknown; d?: unknown };
    try {
      if (isBinary) throw new Error("binary");
      payload = JSON.parse(data.toString());
    } catch {
      conn.ws.close(CloseCode.DecodeError, "Error while decoding payload.");
      return;
    }
    const op = payload.op;
    const d = payload.d as Record<string, unknown> | null | undefined;
    const { token: _token, ...safe } = (d && typeof d === "object" ? d : {}) as Record<string, unknown>;
    this.received.push({ at: Date.now(), op: Number(op), d: d && typeof d === "object" ? safe : d });

    switch (op) {
      case Op.Heartbeat:
        this.send(conn.ws, { op: Op.HeartbeatAck, d: null });
        return;
      case Op.Identify:
        this.identify(conn, d ?? {});
        return;
      case Op.Resume:
        this.resume(conn, d ?? {});
        return;
      case Op.PresenceUpdate:
      case Op.VoiceStateUpdate:
      case Op.RequestGuildMembers:
        if (!conn.session) conn.ws.close(CloseCode.NotAuthenticated, "Not authenticated.");
        return;
      default:
        conn.ws.close(CloseCode.UnknownOpcode, "Unknown opcode.");
    }
  }

  private tokenOk(token: unknown): boolean {
    return typeof token === "string" && token.replace(/^Bot\s+/i, "") === this.hooks.token;
  }

  private identify(conn: Connection, d: Record<string, unknown>) {
    if (conn.session) {
      conn.ws.close(CloseCode.AlreadyAuthenticated, "Already authenticated.");
      return;
    }
    if (!this.tokenOk(d.token)) {
      conn.ws.close(CloseCode.AuthenticationFailed, "Authentication failed.");
      return;
    }
    const intents = d.intents;
    if (typeof intents !== "number" || !Number.isInteger(intents) || intents < 0) {
      conn.ws.close(CloseCode.InvalidIntents, "Invalid intent(s).");
      return;
    }
    if (intents & PRIVILEGED_INTENTS & ~this.hooks.privilegedIntents) {
      conn.ws.close(CloseCode.DisallowedIntents, "Disallowed intent(s).");
      return;
    }
    const shardRaw = Array.isArray(d.shard) ? d.shard : [0, 1];
    const shard: [number, number] = [Number(shardRaw[0]), Number(shardRaw[1])];
    if (!(shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1])) {
      conn.ws.close(CloseCode.InvalidShard, "Invalid shard.");
      return;
    }
    this.identifies.push({
      at: Date.now(),
      intents,
      shard,
      properties: d.properties,
      compress: d.compress,
      ...(d.large_threshold !== undefined ? { large_threshold: d.large_threshold } : {}),
      ...(d.presence !== undefined ? { presence: d.presence } : {}),
    });
    const session: Session = {
      id: randomBytes(16).toString("hex"),
      shard,
      seq: 0,
      log: [],
      connection: conn,
    };
    conn.session = session;
    this.sessions.set(session.id, session);
    this.dispatch(session, "READY", this.hooks.readyPayload(session));
    for (const g of this.hooks.guildCreates(shard)) this.dispatch(session, "GUILD_CREATE", g.payload);
    this.emit("session", session);
    this.emit("change");
  }

  private resume(conn: Connection, d: Record<string, unknown>) {
    const session = typeof d.session_id === "string" ? this.sessions.get(d.session_id) : undefined;
    const seq = typeof d.seq === "number" ? d.seq : -1;
    if (!this.tokenOk(d.token)) {
      conn.ws.close(CloseCode.AuthenticationFailed, "Authentication failed.");
      return;
    }
    const oldest = session?.log[0]?.s ?? 1;
    if (!session || seq > session.seq || seq < oldest - 1) {
      // Not resumable: the client must identify again.
      this.send(conn.ws, { op: Op.InvalidSession, d: false });
      return;
    }
    if (session.connection && session.connection !== conn)
      session.connection.ws.close(CloseCode.UnknownError);
    session.connection = conn;
    conn.session = session;
    for (const missed of session.log.filter((p) => p.s > seq)) this.send(conn.ws, missed);
    this.dispatch(session, "RESUMED", { _trace: ["fake-gateway"] });
    this.emit("session", session);
    this.emit("change");
  }

  get resumeUrl(): string {
    return this.hooks.resumeUrl();
  }
}
