import { z } from "zod";
import { cleanServerText, errorFromResponse, KlingResponseError } from "./errors.js";
import type { RawResponse } from "./http.js";
import type { Operation } from "./operation.js";

/**
 * Reading a 2xx answer: the `{code, message, data}` envelope and the task fields inside it. The schemas are
 * minimal: only what the client reads, tolerant of extra fields and of codes as numbers or strings.
 */

const credits = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((v) => {
    const n = typeof v === "string" ? Number(v) : v;
    return typeof n === "number" && Number.isFinite(n) ? n : undefined;
  });
const taskId = z.union([z.string().trim().min(1), z.number()]).transform(String);
const envelopeSchema = z.looseObject({
  code: z.union([z.number(), z.string()]).nullish(),
  message: z.unknown().optional(),
  data: z.unknown().optional(),
});
export const generateDataSchema = z.looseObject({
  task_id: taskId,
  status: z.string().nullish(),
  consumed_credits: credits,
});
export const statusDataSchema = z.looseObject({
  task_id: taskId.optional(),
  status: z.string().nullish(),
  consumed_credits: credits,
  response: z.unknown().optional(),
  error_message: z.unknown().optional(),
  failed_reason: z.unknown().optional(),
});

/** The `data` of a 2xx answer; an envelope whose `code` reports an error becomes that error. */
export function readEnvelope(op: Operation, res: RawResponse, apiKey: string): unknown {
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    throw new KlingResponseError({
      message: `Kling ${op.label} answered HTTP ${res.statusCode} with a body that is not JSON (${snippet(res.text, apiKey)})`,
      httpStatus: res.statusCode,
      maybeSubmitted: op.creates,
    });
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new KlingResponseError({
      message: `Kling ${op.label} answered HTTP ${res.statusCode} with an unexpected body (${snippet(res.text, apiKey)})`,
      httpStatus: res.statusCode,
      maybeSubmitted: op.creates,
    });
  }
  const { code, data } = envelope.data;
  const numeric =
    typeof code === "number"
      ? code
      : typeof code === "string" && /^\d+$/.test(code)
        ? Number(code)
        : undefined;
  const errorWord = typeof code === "string" && numeric === undefined && !/^(ok|success)$/i.test(code);
  if ((numeric !== undefined && numeric >= 400) || (errorWord && data === undefined)) {
    // Some gateways answer 200 and put the failure in the envelope.
    throw errorFromResponse(res.statusCode, res.text, "application/json", {
      envelopeStatus: numeric,
      operation: op.label,
      creates: op.creates,
      secrets: [apiKey],
    });
  }
  if (data !== undefined && data !== null) return data;
  // No envelope at all: accept the task fields at the top level.
  return json;
}

/** The start of a body for an error message, without the key. */
export function snippet(text: string, apiKey: string): string {
  const clean = cleanServerText(text, [apiKey]);
  if (clean === "") return "empty body";
  return clean.length > 120 ? `${clean.slice(0, 119)}…` : clean;
}
