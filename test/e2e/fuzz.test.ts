import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../../src/db/schema.js";
import { checkInvariants, ensureGuild, getBalance } from "../../src/ledger/index.js";
import type { AttachmentSpec, ChatInputSpec, OptionValue } from "../fakes/discord/index.js";
import { testDrivers } from "../helpers/db.js";
import { seededRandom } from "../helpers/random.js";
import { CHANNEL_ID, GUILD_ID, type Stack, startStack, USER_ID } from "./harness.js";

/**
 * Hostile option values through the real entry: the discord.js client on the fake Discord, the bot, the
 * database and the Kling simulator. Every one must be refused ephemerally before anything is deferred,
 * held or sent, by a message that names the option at fault. The values come from a seeded PRNG:
 * FUZZ_SEED=<n> replays a run, FUZZ_CASES=<n> changes its size.
 *
 * Notes on delivery: the fake Discord sends whatever type and value it is given (`{ type, value }`), and
 * discord.js passes every option through to the bot; only its typed getters refuse a mismatched type,
 * which `readArguments` avoids. A JSON payload cannot carry `undefined`, NaN or Infinity (they become null
 * or disappear), so those arrive as an absent option.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const CASES = Number(process.env.FUZZ_CASES ?? 300);
const STARTING = 10_000;

/** Characters that show nothing: white space, zero-width and bidi controls, fillers, lone marks, tags. */
const INVISIBLE = [
  " ",
  "\t",
  "\n",
  "\u00a0",
  "\u00ad",
  "\u034f",
  "\u0301",
  "\u0308",
  "\u115f",
  "\u1160",
  "\u180e",
  "\u2003",
  "\u200b",
  "\u200c",
  "\u200d",
  "\u200e",
  "\u200f",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2060",
  "\u2062",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\u2800",
  "\u3000",
  "\u3164",
  "\ufe0f",
  "\ufeff",
  "\uffa0",
  "\u{e0020}",
  "\u{e0041}",
  "\u{1d173}",
];
const VISIBLE = [
  "a",
  "Z",
  "7",
  "猫",
  "🐈",
  "é",
  "ß",
  "Ж",
  "ك",
  "ש",
  "हि",
  "…",
  "@everyone",
  "<@1>",
  "**",
  "`",
  "%s",
];
/** C0 (but tab, LF, CR), DEL and C1. */
const CONTROLS = [
  ...Array.from({ length: 32 }, (_, i) => i).filter((c) => c !== 9 && c !== 10 && c !== 13),
  0x7f,
  ...Array.from({ length: 32 }, (_, i) => 0x80 + i),
].map((c) => String.fromCharCode(c));
/** A lone surrogate, kept lone by an ASCII neighbour on the side a partner would be. */
const LONE = ["\ud800x", "\udbffx", "\ud83dx", "x\udc00", "x\udfff", "x\ude00"];

const INTERNAL_URLS = [
  "https://127.0.0.1/a.png",
  "https://127.8.9.10/a.png",
  "https://2130706433/a.png",
  "https://0x7f.1/a.png",
  "https://0177.0.0.1/a.png",
  "https://0/a.png",
  "https://169.254.169.254/latest/meta-data/",
  "https://[::1]/a.png",
  "https://[::]/a.png",
  "https://[::ffff:127.0.0.1]/a.png",
  "https://[::ffff:a9fe:a9fe]/a.png",
  "https://[64:ff9b::10.0.0.1]/a.png",
  "https://[fe80::1]/a.png",
  "https://[fd00::1]/a.png",
  "https://[2001:db8::1]/a.png",
  "https://10.0.0.1/a.png",
  "https://172.16.5.4/a.png",
  "https://192.168.1.1/a.png",
  "https://100.64.0.1/a.png",
  "https://0.0.0.0/a.png",
  "https://224.0.0.1/a.png",
  "https://255.255.255.255/a.png",
  "https://198.18.0.1/a.png",
  "https://localhost/a.png",
  "https://LOCALHOST./a.png",
  "https://x.localhost/a.png",
  "https://printer.local/a.png",
  "https://metadata.google.internal/computeMetadata/v1/",
  "https://intranet/a.png",
  "https:///a.png",
  "https:\\\\example.com/a.png",
  "https:example.com/a.png",
  "https://user:pass@example.com/a.png",
  "https://user@example.com/a.png",
  "http://example.com/a.png",
  "ftp://example.com/a.png",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "data:image/png;base64,AAAA",
  "not a link",
];

const UNKNOWN_SUBCOMMANDS = [
  "delete",
  "TEXT",
  "text2",
  "ｔｅｘｔ",
  "admin",
  "__proto__",
  "constructor",
  "../x",
];

type Spec = Partial<ChatInputSpec> & { subcommand: string };

interface Case {
  label: string;
  spec: Spec;
  /** The option names the refusal must show in backticks; empty for an unknown subcommand. */
  offenders: string[];
}

const png = (filename = "a.png"): AttachmentSpec => ({ filename, content_type: "image/png", size: 2048 });
const mp4 = (filename = "v.mp4"): AttachmentSpec => ({ filename, content_type: "video/mp4", size: 4096 });

/** A valid request per subcommand; a case spoils one or two of its options. */
const VALID: Record<string, () => Spec> = {
  text: () => ({ subcommand: "text", options: { prompt: "A cat on a skateboard" } }),
  image: () => ({ subcommand: "image", options: { prompt: "It turns" }, attachments: { image: png() } }),
  reference: () => ({
    subcommand: "reference",
    options: { prompt: "A walk" },
    attachments: { image1: png() },
  }),
  edit: () => ({
    subcommand: "edit",
    options: { prompt: "Make it snow", video_url: "https://example.com/v.mp4" },
  }),
  status: () => ({ subcommand: "status", options: { job: 1 } }),
};

type Kind = "text" | "choice" | "url" | "integer" | "number" | "boolean" | "attachment";
/** Every option of every subcommand, by the kind of value it takes. */
const OPTIONS: Record<string, Record<string, Kind>> = {
  text: {
    prompt: "text",
    model: "choice",
    duration: "integer",
    aspect_ratio: "choice",
    sound: "boolean",
    negative_prompt: "text",
    prompt_fidelity: "number",
  },
  image: {
    prompt: "text",
    image: "attachment",
    image_url: "url",
    end_image: "attachment",
    end_image_url: "url",
    model: "choice",
    duration: "integer",
    aspect_ratio: "choice",
    sound: "boolean",
    negative_prompt: "text",
    prompt_fidelity: "number",
  },
  reference: {
    prompt: "text",
    image1: "attachment",
    image2: "attachment",
    image7: "attachment",
    video: "attachment",
    quality: "choice",
    duration: "integer",
    aspect_ratio: "choice",
  },
  edit: {
    prompt: "text",
    video: "attachment",
    video_url: "url",
    quality: "choice",
    keep_original_sound: "boolean",
  },
  status: { job: "integer" },
};

function generator(seed: number) {
  const rng = seededRandom(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const many = (xs: readonly string[], n: number) => Array.from({ length: n }, () => pick(xs)).join("");
  const visible = (n = 1 + int(12)) => many(VISIBLE, n);
  /**
   * Visible text with `bad` inside it, among invisible characters. Inside: trimming would remove a vertical
   * tab or form feed at either end, harmlessly.
   */
  const spoiled = (bad: string) => {
    const parts = [visible(), many(INVISIBLE, int(4)), bad, many(INVISIBLE, int(3)), visible()];
    return parts.join("");
  };

  const badText = (): OptionValue => {
    switch (int(8)) {
      case 0:
        return many(INVISIBLE, 1 + int(30));
      case 1:
        return spoiled(pick(CONTROLS));
      case 2:
        return spoiled(pick(LONE));
      case 3:
        return spoiled("\u0000");
      case 4:
        // Everything at once: still refused for the control character it surely holds.
        return many([...INVISIBLE, ...VISIBLE, ...CONTROLS, ...LONE], 5 + int(40)) + spoiled(pick(CONTROLS));
      case 5:
        return "x".repeat(2001 + int(3)) + visible();
      case 6:
        return visible(2001 + int(20_000));
      default:
        return wrongType("text");
    }
  };

  /** A value of another type than the option's: by a mismatched option type or a mismatched JSON type. */
  const wrongType = (kind: Kind): OptionValue => {
    const strings: OptionValue[] = [
      { type: 3, value: "5" },
      { type: 3, value: "true" },
      { type: 3, value: visible() },
    ];
    const numbers: OptionValue[] = [
      { type: 4, value: 5 },
      { type: 10, value: 0.5 },
      { type: 3, value: 7 },
    ];
    const booleans: OptionValue[] = [
      { type: 5, value: true },
      { type: 5, value: false },
      { type: 3, value: true },
    ];
    switch (kind) {
      case "text":
      case "choice":
      case "url":
        return pick([...numbers, ...booleans]);
      case "integer":
      case "number":
        return pick([...strings, ...booleans]);
      case "boolean":
        return pick([...strings, ...numbers]);
      case "attachment":
        return pick([...strings, ...numbers, ...booleans, { type: 11, value: "123456789" }]);
    }
  };

  const badValue = (
    sub: string,
    name: string,
    kind: Kind,
  ): { value?: OptionValue; attachment?: AttachmentSpec } => {
    if (int(5) === 0 && kind !== "attachment") return { value: wrongType(kind) };
    switch (kind) {
      case "text":
        return { value: badText() };
      case "choice":
        return {
          value: pick([
            "",
            "PRO",
            " std",
            "o3",
            "16:10",
            "4:3",
            "ultra",
            visible(),
            spoiled(pick(CONTROLS)),
            many(INVISIBLE, 3),
          ]),
        };
      case "url":
        return {
          value: pick([
            pick(INTERNAL_URLS),
            `${pick(INTERNAL_URLS)}${many(VISIBLE, int(5))}`,
            `https://example.com/${spoiled(pick([...CONTROLS, ...LONE]))}`,
            `https://example.com/${"a".repeat(2001)}`,
            many(INVISIBLE, 1 + int(5)),
          ]),
        };
      case "integer":
        return name === "job"
          ? { value: pick([0, -1, -(2 ** 31), 1.5, 2 ** 60]) }
          : { value: pick([0, 1, 2, 16, 99, -5, 2 ** 40, { type: 4, value: 5.5 }]) };
      case "number":
        return { value: { type: 10, value: pick([-0.01, 1.01, 7, -1e9, 1e300]) } };
      case "boolean":
        return { value: wrongType(kind) };
      case "attachment": {
        if (int(4) === 0) return { value: wrongType(kind) };
        const base = sub === "edit" || name === "video" ? mp4() : png();
        return {
          attachment: pick<AttachmentSpec>([
            {
              ...base,
              content_type: pick(["text/html", "image/svg+xml", "image/gif", "application/octet-stream"]),
            },
            { ...base, content_type: undefined },
            { ...base, size: 200 * 1024 * 1024 + int(1000) },
            { ...base, url: pick(INTERNAL_URLS) },
            {
              ...base,
              url: `https://cdn.discordapp.com/attachments/1/2/${spoiled(pick([...CONTROLS, ...LONE]))}`,
            },
            { ...base, filename: spoiled("`"), content_type: "text/plain" },
          ]),
        };
      }
    }
  };

  /** Put a bad value into `spec` for `name`, replacing its valid counterpart where there is one. */
  const spoil = (spec: Spec, name: string, kind: Kind, offenders: readonly string[]) => {
    const bad = badValue(spec.subcommand, name, kind);
    const options = { ...spec.options };
    const attachments = { ...spec.attachments };
    delete options[name];
    delete attachments[name];
    if (bad.attachment) attachments[name] = bad.attachment;
    else if (bad.value !== undefined) options[name] = bad.value;
    // A link replaces the attachment it stands for, and the other way round (both at once is another refusal).
    if (name === "image_url" && !offenders.includes("image") && int(2)) delete attachments.image;
    if (name === "video" && spec.subcommand === "edit" && !offenders.includes("video_url") && int(2)) {
      delete options.video_url;
    }
    return { ...spec, options, attachments };
  };

  return function next(i: number): Case {
    if (int(12) === 0) {
      const name = int(3) === 0 ? visible(1 + int(3)) : pick(UNKNOWN_SUBCOMMANDS);
      const group = int(4) === 0;
      return {
        label: `#${i} unknown subcommand ${JSON.stringify(name)}${group ? " in a group" : ""}`,
        spec: group
          ? { subcommand: "text", group: name, options: { prompt: "A cat" } }
          : { subcommand: name, options: { prompt: "A cat" } },
        offenders: [],
      };
    }
    const sub = pick(Object.keys(VALID));
    const names = Object.entries(OPTIONS[sub]!);
    let spec = VALID[sub]!();
    const offenders: string[] = [];
    const spoilCount = names.length > 1 && int(3) === 0 ? 2 : 1;
    while (offenders.length < spoilCount) {
      const [name, kind] = pick(names);
      if (offenders.includes(name)) continue;
      spec = spoil(spec, name, kind, offenders);
      offenders.push(name);
    }
    return { label: `#${i} /video ${sub} with bad ${offenders.join(", ")}`, spec, offenders };
  };
}

describe.each(testDrivers())("hostile /video options on %s", (driver) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ driver });
    await ensureGuild(stack.database.db, GUILD_ID, STARTING);
  });
  afterAll(async () => {
    await stack?.close();
  });

  const db = () => stack.database.db;
  const generates = () => stack.sim.requests.filter((r) => r.path === "/api/generate");

  async function send(spec: Spec) {
    const payload = stack.discord.chatInput({
      name: "video",
      userId: USER_ID,
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
      ...spec,
    });
    const { id } = await stack.discord.sendInteraction(payload);
    return stack.discord.waitFor(() => {
      const s = stack.discord.interactionState(id);
      return s?.callbackType !== undefined && s.original ? s : undefined;
    }, 10_000);
  }

  /** What is wrong with how a case was answered, if anything. */
  function judge(c: Case, state: Awaited<ReturnType<typeof send>>): string[] {
    const wrong: string[] = [];
    const content = state.original?.content ?? "";
    if (state.callbackType !== 4) wrong.push(`callback type ${state.callbackType}, not 4`);
    if (((state.callbackFlags ?? 0) & 64) === 0) wrong.push("not ephemeral");
    for (const name of c.offenders) {
      if (!content.includes(`\`${name}\``)) wrong.push(`does not name \`${name}\``);
    }
    if (c.offenders.length === 0 && !/no subcommand .*reference `[0-9a-f]{8}`/s.test(content)) {
      wrong.push("no unknown-subcommand answer with a reference");
    }
    if (/Invalid (input|option)|expected /.test(content)) wrong.push("zod's default wording");
    if (wrong.length === 0) return [];
    const sent = JSON.stringify({ options: c.spec.options, attachments: c.spec.attachments }).slice(0, 300);
    return [
      `${c.label}: ${wrong.join("; ")}\n    sent ${sent}\n    got ${JSON.stringify(content).slice(0, 300)}`,
    ];
  }

  const regressions: Case[] = [
    {
      label: "NUL in the prompt",
      spec: { subcommand: "text", options: { prompt: "A cat\u0000" } },
      offenders: ["prompt"],
    },
    {
      label: "a lone surrogate in the negative prompt",
      spec: { subcommand: "text", options: { prompt: "A cat", negative_prompt: "dogs \ud83d" } },
      offenders: ["negative_prompt"],
    },
    {
      label: "a prompt of zero-width and blank characters",
      spec: { subcommand: "text", options: { prompt: "\u200b\u2800\u3164\u202e\u0301" } },
      offenders: ["prompt"],
    },
    {
      label: "a link to the metadata service",
      spec: {
        subcommand: "image",
        options: { prompt: "x", image_url: "https://169.254.169.254/latest/meta-data/" },
      },
      offenders: ["image_url"],
    },
    {
      label: "a link to loopback in decimal",
      spec: { subcommand: "edit", options: { prompt: "x", video_url: "https://2130706433/v.mp4" } },
      offenders: ["video_url"],
    },
    {
      label: "a number for the prompt",
      spec: { subcommand: "text", options: { prompt: { type: 4, value: 5 } } },
      offenders: ["prompt"],
    },
    {
      label: "a model not in the list",
      spec: { subcommand: "text", options: { prompt: "x", model: "gpt" } },
      offenders: ["model"],
    },
    {
      label: "text for the duration",
      spec: { subcommand: "text", options: { prompt: "x", duration: { type: 3, value: "5" } } },
      offenders: ["duration"],
    },
    {
      label: "an unknown subcommand",
      spec: { subcommand: "delete", options: { prompt: "x" } },
      offenders: [],
    },
    { label: "a job number of 0", spec: { subcommand: "status", options: { job: 0 } }, offenders: ["job"] },
  ];

  it.each(regressions.map((c) => [c.label, c] as const))(
    "refuses %s ephemerally, by name",
    async (_label, c) => {
      const state = await send(c.spec);
      expect(judge(c, state)).toEqual([]);
    },
  );

  it(`refuses ${CASES} hostile requests (seed ${SEED}), holding and sending nothing`, async () => {
    const before = await getBalance(db(), GUILD_ID);
    const [{ jobCount: jobsBefore } = { jobCount: 0 }] = await db().select({ jobCount: count() }).from(jobs);
    stack.sim.clearRequests();
    const next = generator(SEED);
    const cases = Array.from({ length: CASES }, (_, i) => next(i));
    const wrong: string[] = [];
    // A few at a time, as members would send them; the bot answers each within Discord's 3 s.
    for (let i = 0; i < cases.length; i += 10) {
      const batch = cases.slice(i, i + 10);
      const states = await Promise.all(batch.map((c) => send(c.spec)));
      for (const [j, c] of batch.entries()) wrong.push(...judge(c, states[j]!));
    }
    expect(wrong, `seed ${SEED}`).toEqual([]);

    expect(generates()).toHaveLength(0);
    const [{ jobCount } = { jobCount: 0 }] = await db().select({ jobCount: count() }).from(jobs);
    expect(jobCount).toBe(jobsBefore);
    expect(await getBalance(db(), GUILD_ID)).toBe(before);
    const invariants = await checkInvariants(db(), GUILD_ID);
    expect(invariants.problems).toEqual([]);

    // Still alive and serving: a valid request is deferred publicly and reaches the API.
    const payload = stack.discord.chatInput({
      name: "video",
      subcommand: "text",
      options: { prompt: "Still here" },
      userId: USER_ID,
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
    });
    const { id } = await stack.discord.sendInteraction(payload);
    const state = await stack.discord.waitFor(() => {
      const s = stack.discord.interactionState(id);
      return s?.callbackType !== undefined ? s : undefined;
    });
    // Answered publicly at once (4), or deferred publicly first when the checks are slow (5).
    expect([4, 5]).toContain(state.callbackType);
    expect((state.callbackFlags ?? 0) & 64).toBe(0);
    await stack.discord.waitFor(() => generates().length > 0, 10_000);
    const [job] = await db().select().from(jobs).where(eq(jobs.interactionId, id));
    expect(job).toBeDefined();
  });
});
