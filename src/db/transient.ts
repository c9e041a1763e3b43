/**
 * Errors that mean "the database did not answer", not "the database refused": a lost or refused connection,
 * a server shutting down or restarting. Work that must not be lost (a created task's id) is retried through
 * them; a constraint violation or a bad query is never retried.
 */

/** SQLSTATEs of a lost or unavailable server: class 08 (connection exception) and operator intervention. */
const CONNECTION_SQLSTATES = /^(08...|57P0[1-4]|53300)$/;

/** Node errnos and postgres.js client codes for a connection that broke or could not be made. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTCONN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

export function isConnectionError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || CONNECTION_SQLSTATES.test(code)))
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
