import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/database.js";
import { guilds, memberFreezes } from "../db/schema.js";
import { ensureGuild } from "../ledger/index.js";
import { type GuildSettingsValue, guildSettingsSchema, readSettings } from "./settings.js";

/** A server's settings and its frozen members: reading and changing them, always filtered by the server. */

export async function loadSettings(db: Database, guildId: string): Promise<GuildSettingsValue> {
  const [row] = await db.select({ settings: guilds.settings }).from(guilds).where(eq(guilds.id, guildId));
  return readSettings(row?.settings);
}

/**
 * Change some settings, each on its own (the others stay), under the guild row's lock so that two managers
 * saving at once do not undo each other. Returns the settings as saved.
 */
export async function updateSettings(
  db: Database,
  guildId: string,
  change: (current: GuildSettingsValue) => Partial<GuildSettingsValue>,
  defaultCredits: number,
): Promise<GuildSettingsValue> {
  await ensureGuild(db, guildId, defaultCredits);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({ settings: guilds.settings })
      .from(guilds)
      .where(eq(guilds.id, guildId))
      .for("update");
    const current = readSettings(row?.settings);
    const next = guildSettingsSchema.parse({ ...current, ...change(current) });
    await tx.update(guilds).set({ settings: next }).where(eq(guilds.id, guildId));
    return next;
  });
}

export async function freezeMember(
  db: Database,
  input: { guildId: string; userId: string; actorId: string; reason: string | null },
): Promise<void> {
  await db
    .insert(memberFreezes)
    .values(input)
    .onConflictDoUpdate({
      target: [memberFreezes.guildId, memberFreezes.userId],
      set: { reason: input.reason, actorId: input.actorId, createdAt: sql`now()` },
    });
}

/** Whether the member was frozen. */
export async function unfreezeMember(db: Database, guildId: string, userId: string): Promise<boolean> {
  const rows = await db
    .delete(memberFreezes)
    .where(and(eq(memberFreezes.guildId, guildId), eq(memberFreezes.userId, userId)))
    .returning({ userId: memberFreezes.userId });
  return rows.length > 0;
}

export async function frozenReason(
  db: Database,
  guildId: string,
  userId: string,
): Promise<{ reason: string | null } | undefined> {
  const [row] = await db
    .select({ reason: memberFreezes.reason })
    .from(memberFreezes)
    .where(and(eq(memberFreezes.guildId, guildId), eq(memberFreezes.userId, userId)));
  return row;
}
