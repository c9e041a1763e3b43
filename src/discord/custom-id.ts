/**
 * The grammar of every component and modal `custom_id` the bot sends:
 *
 *   kb1:<action>:<ref>[:<ref>…]
 *
 * `kb1` names the grammar's version; `<action>` is a lower-case word (`[a-z][a-z-]*`); each `<ref>` is a
 * decimal id (a job number, a ledger page). An id carries references only, never authority: the handler of
 * a click loads what it names from the database and checks the clicker's rights and server every time, so a
 * button keeps working after a restart and on any process, and a forged id can do nothing its clicker could
 * not. At most 100 characters (Discord's limit).
 */

const PREFIX = "kb1";
const ACTION = /^[a-z][a-z-]{0,30}$/;
const REF = /^\d{1,20}$/;

export interface CustomId {
  action: string;
  refs: string[];
}

export function formatCustomId(action: string, ...refs: (string | number)[]): string {
  if (!ACTION.test(action)) throw new TypeError(`bad custom_id action: ${action}`);
  const parts = refs.map(String);
  if (!parts.every((r) => REF.test(r))) throw new TypeError("custom_id refs must be decimal ids");
  const id = [PREFIX, action, ...parts].join(":");
  if (id.length > 100) throw new TypeError("custom_id longer than 100 characters");
  return id;
}

/** The parsed id, or undefined for anything that does not follow the grammar. */
export function parseCustomId(raw: string): CustomId | undefined {
  if (raw.length > 100) return undefined;
  const [prefix, action, ...refs] = raw.split(":");
  if (prefix !== PREFIX || !action || !ACTION.test(action) || !refs.every((r) => REF.test(r)))
    return undefined;
  return { action, refs };
}
