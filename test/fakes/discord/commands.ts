import { type FieldError, invalidFormBody, type Snowflakes } from "./protocol.js";

/**
 * Registered application commands, global or per guild, with the checks Discord applies to a bulk
 * overwrite (names, descriptions, option counts and order).
 */

export type StoredCommand = Record<string, unknown> & { id: string; name: string; type: number };

const NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
/** User and message commands (context menus) may have spaces and capitals. */
const MENU_NAME = /^(?! )[-_' \p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}(?<! )$/u;
const LIMIT = { options: 25, choices: 25, description: 100, choiceName: 100, commands: 100 } as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkName(errs: FieldError[], path: FieldError["path"], name: unknown, chatInput: boolean) {
  if (typeof name !== "string" || !(chatInput ? NAME : MENU_NAME).test(name)) {
    errs.push({ path, code: "APPLICATION_COMMAND_INVALID_NAME", message: "Command name is invalid" });
  } else if (chatInput && name !== name.toLowerCase()) {
    errs.push({ path, code: "APPLICATION_COMMAND_INVALID_NAME", message: "Command name is invalid" });
  }
}

function checkDescription(errs: FieldError[], path: FieldError["path"], d: unknown) {
  if (typeof d !== "string" || d.length < 1 || d.length > LIMIT.description) {
    errs.push({
      path,
      code: "BASE_TYPE_BAD_LENGTH",
      message: `Must be between 1 and ${LIMIT.description} in length.`,
    });
  }
}

function checkOptions(errs: FieldError[], path: FieldError["path"], options: unknown) {
  if (options === undefined || options === null) return;
  if (!Array.isArray(options)) {
    errs.push({ path, code: "BASE_TYPE_ARRAY", message: "Must be an array." });
    return;
  }
  if (options.length > LIMIT.options) {
    errs.push({
      path,
      code: "BASE_TYPE_MAX_LENGTH",
      message: `Must be ${LIMIT.options} or fewer in length.`,
    });
  }
  const names = new Set<string>();
  let sawOptional = false;
  let sawSub = false;
  let sawBasic = false;
  options.forEach((o: unknown, i: number) => {
    const at = [...path, i];
    if (!isRecord(o)) return;
    checkName(errs, [...at, "name"], o.name, true);
    checkDescription(errs, [...at, "description"], o.description);
    if (typeof o.name === "string") {
      if (names.has(o.name)) {
        errs.push({
          path: [...at, "name"],
          code: "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
          message: "Option names must be unique",
        });
      }
      names.add(o.name);
    }
    const type = o.type;
    if (type === 1 || type === 2) {
      sawSub = true;
      checkOptions(errs, [...at, "options"], o.options);
    } else {
      sawBasic = true;
      if (o.required === true && sawOptional) {
        errs.push({
          path: [...at, "required"],
          code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
          message: "Required options must be placed before non-required options",
        });
      }
      if (o.required !== true) sawOptional = true;
      if (Array.isArray(o.choices)) {
        if (o.choices.length > LIMIT.choices) {
          errs.push({
            path: [...at, "choices"],
            code: "BASE_TYPE_MAX_LENGTH",
            message: `Must be ${LIMIT.choices} or fewer in length.`,
          });
        }
        o.choices.forEach((c: unknown, j: number) => {
          const name = isRecord(c) ? c.name : undefined;
          if (typeof name !== "string" || name.length < 1 || name.length > LIMIT.choiceName) {
            errs.push({
              path: [...at, "choices", j, "name"],
              code: "BASE_TYPE_BAD_LENGTH",
              message: `Must be between 1 and ${LIMIT.choiceName} in length.`,
            });
          }
        });
        if (o.autocomplete === true) {
          errs.push({
            path: [...at, "autocomplete"],
            code: "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
            message: "Autocomplete cannot be set on options with choices",
          });
        }
      }
      if (typeof o.min_value === "number" && typeof o.max_value === "number" && o.min_value > o.max_value) {
        errs.push({
          path: [...at, "min_value"],
          code: "NUMBER_TYPE_MAX",
          message: "min_value must be less than or equal to max_value",
        });
      }
      for (const key of ["min_length", "max_length"] as const) {
        const v = o[key];
        if (v !== undefined && (typeof v !== "number" || v < (key === "min_length" ? 0 : 1) || v > 6000)) {
          errs.push({ path: [...at, key], code: "NUMBER_TYPE_MAX", message: "int value should be <= 6000." });
        }
      }
    }
  });
  if (sawSub && sawBasic) {
    errs.push({
      path,
      code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
      message: "Sub-command and sub-command group option types are mutually exclusive to all other types",
    });
  }
}

export class CommandRegistry {
  private readonly scopes = new Map<string, StoredCommand[]>();
  private readonly versions = new Map<string, string>();

  private readonly ids: Snowflakes;
  private readonly applicationId: string;

  constructor(ids: Snowflakes, applicationId: string) {
    this.ids = ids;
    this.applicationId = applicationId;
  }

  list(guildId?: string): StoredCommand[] {
    return this.scopes.get(guildId ?? "global") ?? [];
  }

  /** A command by name and type (1: slash command, 3: message context menu), guild first, then global. */
  find(name: string, guildId?: string, type = 1): StoredCommand | undefined {
    return (
      (guildId ? this.list(guildId).find((c) => c.name === name && (c.type ?? 1) === type) : undefined) ??
      this.list().find((c) => c.name === name && (c.type ?? 1) === type)
    );
  }

  validate(body: unknown, indexed: boolean): void {
    const list = indexed ? body : [body];
    if (!Array.isArray(list))
      throw invalidFormBody([{ path: [], code: "BASE_TYPE_ARRAY", message: "Must be an array." }]);
    const errs: FieldError[] = [];
    if (list.length > LIMIT.commands) {
      errs.push({
        path: [],
        code: "BASE_TYPE_MAX_LENGTH",
        message: `Must be ${LIMIT.commands} or fewer in length.`,
      });
    }
    list.forEach((c: unknown, i: number) => {
      const at = indexed ? [i] : [];
      if (!isRecord(c)) {
        errs.push({
          path: at,
          code: "MODEL_TYPE_CONVERT",
          message: "Only dictionaries may be used in a ModelType",
        });
        return;
      }
      const type = typeof c.type === "number" ? c.type : 1;
      checkName(errs, [...at, "name"], c.name, type === 1);
      if (isRecord(c.name_localizations)) {
        for (const [locale, name] of Object.entries(c.name_localizations)) {
          checkName(errs, [...at, "name_localizations", locale], name, type === 1);
        }
      }
      if (type === 1) {
        checkDescription(errs, [...at, "description"], c.description);
        checkOptions(errs, [...at, "options"], c.options);
      }
    });
    if (errs.length) throw invalidFormBody(errs);
  }

  private store(
    raw: Record<string, unknown>,
    guildId: string | undefined,
    previous?: StoredCommand,
  ): StoredCommand {
    const type = typeof raw.type === "number" ? raw.type : 1;
    const key = `${guildId ?? "global"}:${String(raw.name)}:${type}`;
    const version = this.ids.next();
    this.versions.set(key, version);
    return {
      default_member_permissions: null,
      name_localizations: null,
      description_localizations: null,
      nsfw: false,
      ...(guildId ? {} : { dm_permission: true, contexts: null, integration_types: [0] }),
      ...raw,
      id: previous?.id ?? this.ids.next(),
      application_id: this.applicationId,
      ...(guildId ? { guild_id: guildId } : {}),
      version,
      type,
      name: String(raw.name),
      description: typeof raw.description === "string" ? raw.description : "",
    };
  }

  /** Bulk overwrite: commands keep their ids when a command of the same name and type existed. */
  overwrite(body: unknown[], guildId?: string): StoredCommand[] {
    const previous = this.list(guildId);
    const next = body.map((raw) => {
      const r = raw as Record<string, unknown>;
      const type = typeof r.type === "number" ? r.type : 1;
      return this.store(
        r,
        guildId,
        previous.find((p) => p.name === r.name && p.type === type),
      );
    });
    this.scopes.set(guildId ?? "global", next);
    return next;
  }

  /** Create or replace one command by name (POST answers 201 for new, 200 for existing). */
  upsert(raw: Record<string, unknown>, guildId?: string): { command: StoredCommand; created: boolean } {
    const list = [...this.list(guildId)];
    const type = typeof raw.type === "number" ? raw.type : 1;
    const index = list.findIndex((p) => p.name === raw.name && p.type === type);
    const command = this.store(raw, guildId, index >= 0 ? list[index] : undefined);
    if (index >= 0) list[index] = command;
    else list.push(command);
    this.scopes.set(guildId ?? "global", list);
    return { command, created: index < 0 };
  }

  remove(id: string, guildId?: string): boolean {
    const list = this.list(guildId);
    const next = list.filter((c) => c.id !== id);
    this.scopes.set(guildId ?? "global", next);
    return next.length !== list.length;
  }
}
