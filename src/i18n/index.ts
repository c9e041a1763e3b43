import { en } from "./en.js";
import { ja } from "./ja.js";
import type { Locale } from "./locale.js";

export { en } from "./en.js";
export { ja } from "./ja.js";
export { LOCALES, type Locale, localeOf } from "./locale.js";

/**
 * The message catalogue: `t(locale, key, params)` fills a template of en.ts or ja.ts. Parameter names come
 * from the English template's `{placeholders}`, so a missing or misspelt one does not compile. A `Message`
 * is a key with its parameters and no locale: validation returns them, and whoever answers the member
 * renders them in the member's language (`renderMessage`). Messages are plain JSON, so they can be stored.
 */

type Catalogue = typeof en;
export type CatalogueKey = keyof Catalogue;

/** The placeholder names of a template: `"{a} of {b}"` → `"a" | "b"`. */
export type PlaceholdersOf<S extends string> = S extends `${string}{${infer P}}${infer Rest}`
  ? P | PlaceholdersOf<Rest>
  : never;

/** `x` for each plural pair `x.one` / `x.other`: asked for with a `count`, the locale's rule picks the form. */
export type PluralKey = {
  [K in CatalogueKey]: K extends `${infer B}.other` ? (`${B}.one` extends CatalogueKey ? B : never) : never;
}[CatalogueKey];

export type MessageKey = CatalogueKey | PluralKey;

type TemplateOf<K> = K extends CatalogueKey ? Catalogue[K] : never;

type NamesOf<K extends MessageKey> = K extends CatalogueKey
  ? PlaceholdersOf<Catalogue[K]>
  : PlaceholdersOf<TemplateOf<`${K}.one`>> | PlaceholdersOf<TemplateOf<`${K}.other`>> | "count";

/** A list of items joined the locale's way: `a, b, or c` / `a、b、またはc`. */
export interface ListParam {
  readonly list: "and" | "or";
  readonly items: readonly string[];
}

/** A number is formatted for the locale; a message is rendered in it; a list is joined in it. */
export type ParamValue = string | number | ListParam | Message;

/** `count` picks a plural form, so it is a number; a job number is an id, not a quantity (no `1,234`). */
type ValueOf<P> = P extends "count" ? number : P extends "job" ? string : ParamValue;

export type ParamsOf<K extends MessageKey> = { readonly [P in NamesOf<K>]: ValueOf<P> };

/** A text to show, in no language yet. */
export type Message = { [K in MessageKey]: { readonly key: K; readonly params: ParamsOf<K> } }[MessageKey];

/** A key without placeholders takes no parameters (or `{}`). */
type ParamsArg<K extends MessageKey> = [keyof ParamsOf<K>] extends [never]
  ? [params?: ParamsOf<K>]
  : [params: ParamsOf<K>];

const CATALOGUES: Readonly<Record<Locale, Readonly<Record<string, string>>>> = { en, ja };

/** The text of `key` in `locale`, parameters filled in. */
export function t<K extends MessageKey>(locale: Locale, key: K, ...[params]: ParamsArg<K>): string {
  return format(locale, key, (params ?? {}) as Readonly<Record<string, ParamValue>>);
}

/** A message, built where the locale is not known yet. */
export function message<K extends MessageKey>(key: K, ...[params]: ParamsArg<K>): Message {
  return { key, params: params ?? {} } as Message;
}

/** For keys built at run time (`reason.${code}`): whether the catalogue has it. */
export function hasKey(key: string): key is CatalogueKey {
  return Object.hasOwn(en, key);
}

export function renderMessage(locale: Locale, m: Message): string {
  return format(locale, m.key, m.params as Readonly<Record<string, ParamValue>>);
}

export const andList = (items: readonly string[]): ListParam => ({ list: "and", items });
export const orList = (items: readonly string[]): ListParam => ({ list: "or", items });

function template(locale: Locale, key: string, params: Readonly<Record<string, ParamValue>>) {
  const catalogue = CATALOGUES[locale];
  if (Object.hasOwn(catalogue, key)) return catalogue[key];
  const count = params.count;
  if (typeof count !== "number") return undefined;
  return catalogue[`${key}.${pluralCategory(locale, count)}`] ?? catalogue[`${key}.other`];
}

function format(locale: Locale, key: string, params: Readonly<Record<string, ParamValue>>): string {
  // Only a key the types did not check can miss: show the key rather than nothing.
  const text = template(locale, key, params) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    return value === undefined ? whole : formatValue(locale, value);
  });
}

function formatValue(locale: Locale, value: ParamValue): string {
  if (typeof value === "number") return formatNumber(locale, value);
  if (typeof value === "string") return value;
  if ("list" in value) return formatList(locale, value.items, value.list);
  return renderMessage(locale, value);
}

// Intl objects are costly to build and immutable: one of each kind per locale.
const numberFormats = new Map<Locale, Intl.NumberFormat>();
const pluralRules = new Map<Locale, Intl.PluralRules>();
const listFormats = new Map<string, Intl.ListFormat>();

function once<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function pluralCategory(locale: Locale, count: number): Intl.LDMLPluralRule {
  return once(pluralRules, locale, () => new Intl.PluralRules(locale)).select(count);
}

export function formatNumber(locale: Locale, n: number): string {
  return once(numberFormats, locale, () => new Intl.NumberFormat(locale)).format(n);
}

export function formatList(locale: Locale, items: readonly string[], kind: "and" | "or" = "and"): string {
  const type = kind === "and" ? "conjunction" : "disjunction";
  return once(listFormats, `${locale}:${type}`, () => new Intl.ListFormat(locale, { type })).format(items);
}

/** "1 credit", "1,234 credits"; "400 クレジット". */
export function formatCredits(locale: Locale, n: number): string {
  return t(locale, "unit.credits", { count: n });
}

/** English pads the seconds after minutes ("2m 05s"); Japanese does not ("2分5秒"). */
const PAD_SECONDS: Readonly<Record<Locale, boolean>> = { en: true, ja: false };

/** "1h 5m", "2m 05s", "7s"; "1時間5分", "2分5秒", "7秒". Rounded to the second, never negative. */
export function formatDuration(locale: Locale, ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return t(locale, "unit.duration.hours", { h, m });
  if (m > 0)
    return t(locale, "unit.duration.minutes", { m, s: PAD_SECONDS[locale] ? String(s).padStart(2, "0") : s });
  return t(locale, "unit.duration.seconds", { s });
}
