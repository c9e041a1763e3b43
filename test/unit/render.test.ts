import { describe, expect, it } from "vitest";
import * as render from "../../src/discord/render.js";
import { formatDuration } from "../../src/i18n/index.js";
import { progressFigures } from "../../src/jobs/poll.js";

const job: render.JobSummary = {
  id: 7,
  number: 3,
  userId: "123456789012345678",
  display: {
    subcommand: "text",
    model: "std",
    prompt: "a cat",
    duration: 5,
    aspectRatio: "16:9",
    sound: true,
  },
  estimatedCost: 300,
};

describe("render", () => {
  it("makes mentions in echoed text inert and escapes markdown", () => {
    const out = render.escapeUserText(
      "@everyone @here <@&111111111111111111> <@222222222222222222> **bold**",
      500,
    );
    expect(out).not.toMatch(/@everyone|@here/);
    expect(out).not.toMatch(/<@&\d+>|<@\d+>/);
    expect(out).toContain("\\*\\*bold\\*\\*");
  });

  it("truncates long prompts to fit an embed", () => {
    const long = { ...job, display: { ...job.display, prompt: "x".repeat(5000) } };
    const message = render.queued("en", long, 1000);
    const description = message.embeds[0]?.description ?? "";
    expect(description.length).toBeLessThanOrEqual(4096);
    expect(description).toContain("…");
  });

  it("pings the requester alone on the message that carries the video, and nobody anywhere else", () => {
    expect(render.queued("en", job, 10).pingUserId).toBeUndefined();
    expect(render.progress("en", job, progressFigures(10_000, 90_000)).pingUserId).toBeUndefined();
    const video = render.delivered("en", job, { charged: 300, tookMs: 1000, balance: 9_700 });
    expect(video.pingUserId).toBe(job.userId);
    expect(video.content).toBe(`<@${job.userId}> your video is ready.`);
    const pointer = render.pointer("en", job, "https://discord.com/channels/1/2/3");
    expect(pointer.pingUserId).toBeUndefined();
    expect(pointer).toMatchObject({
      content: "**Video #3** is ready: https://discord.com/channels/1/2/3",
      embeds: [],
    });
  });

  it("numbers a job by its number in its server, never its internal id", () => {
    const texts = [
      render.queued("en", job, 10),
      render.progress("ja", job, progressFigures(0, 90_000)),
      render.delivered("en", job, { charged: 300, tookMs: 1000, balance: 0 }),
      render.approvalRequest("en", job),
    ].map((m) => JSON.stringify(m.embeds[0]?.title));
    for (const title of texts) expect(title).toMatch(/#3\b/);
    for (const title of texts) expect(title).not.toContain("#7");
    // Buttons still carry the internal id.
    expect(JSON.stringify(render.approvalRequest("en", job).components)).toContain("kb1:approve:7");
  });

  it("shows the balance after the charge, with plurals that read right", () => {
    const one = render.delivered("en", job, { charged: 300, tookMs: 65_000, balance: 1 }).embeds[0]!;
    expect(one.description).toContain(
      "Done in 1m 05s — **300 credits** charged; the server has 1 credit left.",
    );
    const ja = render.delivered("ja", job, { charged: 300, tookMs: 65_000, balance: 1_234 }).embeds[0]!;
    expect(ja.description).toContain(
      "1分5秒で完成しました（**300 クレジット** を消費、サーバーの残りは 1,234 クレジット）。",
    );
    const rule = (limit: number) =>
      render.refused("en", { rule: "member-jobs", limit }).embeds[0]!.description ?? "";
    expect(rule(1)).toContain("You already have 1 video in the works");
    expect(rule(1)).toContain("Wait for it to finish.");
    expect(rule(2)).toContain("You already have 2 videos in the works");
    const spent = (count: number) =>
      JSON.stringify(
        render.budget("en", {
          balance: 0,
          held: 0,
          mineMonth: 0,
          mineAll: 300,
          mineJobs: count,
          inFlight: [],
        }),
      );
    expect(spent(1)).toContain("300 credits (1 video)");
    expect(spent(2)).toContain("300 credits (2 videos)");
  });
});

/** The seconds of a duration as the English catalogue writes it ("1m 25s", "5s"). */
function seconds(text: string): number {
  const m = /^(?:(\d+)m )?(\d+)s$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
}

describe("render, progress", () => {
  const line = (elapsedMs: number, estimateMs: number) =>
    render
      .progress("en", job, progressFigures(elapsedMs, estimateMs))
      .embeds[0]!.description!.split("\n\n")[1]!;

  it("shows elapsed and left that add up to the estimate, and a share that is theirs", () => {
    for (const estimateMs of [90_000, 137_000, 44_000]) {
      const shown = progressFigures(0, estimateMs).estimateMs / 1000;
      for (let elapsedMs = 0; elapsedMs < estimateMs - 5_000; elapsedMs += 1_700) {
        const text = line(elapsedMs, estimateMs);
        const m = /(\d+)%\nGenerating — (.+) elapsed, about (.+) left$/.exec(text);
        expect(m, text).not.toBeNull();
        const elapsed = seconds(m![2]!);
        expect(elapsed + seconds(m![3]!)).toBe(shown);
        expect(Number(m![1])).toBe(Math.floor((elapsed / shown) * 100));
      }
    }
  });

  it("counts a few seconds as a few seconds, not zero", () => {
    expect(line(7_000, 90_000)).toContain("Generating — 5s elapsed, about 1m 25s left");
    expect(line(0, 90_000)).toContain("0%");
    expect(formatDuration("en", progressFigures(7_000, 90_000).elapsedMs)).toBe("5s");
  });

  it("never shows 100% while generating; past the estimate it says so, without a bar", () => {
    const over = line(10 * 60_000, 60_000);
    expect(over).toBe("Generating — 10m 00s elapsed, longer than the usual 1m 00s; it should be done soon");
    expect(line(59_000, 60_000)).not.toMatch(/100%/);
  });

  it("renders the same for figures that round alike", () => {
    const a = render.progress("en", job, progressFigures(31_000, 100_000));
    const b = render.progress("en", job, progressFigures(32_000, 101_000));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it("shows the shortfall", () => {
    const text = JSON.stringify(render.insufficientBudget("en", 400, 120));
    expect(text).toContain("400 credits");
    expect(text).toContain("120 credits");
    expect(text).toContain("280 credits short");
  });
});

describe("render, hostile prompts", () => {
  it("does not turn a prompt into a masked link, heading or list", () => {
    const out = render.escapeUserText("[Claim Nitro](https://evil.example)\n# Big\n- item\n1. first", 500);
    expect(out).not.toMatch(/(^|[^\\])\[Claim Nitro\]\(/);
    expect(out).toContain("\\#");
  });

  it("keeps every embed within Discord's limits, even with a huge result link", () => {
    const job: render.JobSummary = {
      id: 1,
      number: 1,
      userId: "123456789012345678",
      display: { subcommand: "text", model: "pro", prompt: "p".repeat(3000) },
      estimatedCost: 1,
    };
    const message = render.delivered("en", job, {
      charged: 1,
      tookMs: 1,
      balance: 1,
      link: { url: `https://cdn.example/${"x".repeat(5000)}`, why: { kind: "too-large", limitMiB: 10 } },
    });
    const embed = message.embeds[0]!;
    expect(embed.description!.length).toBeLessThanOrEqual(4096);
    const total =
      (embed.title?.length ?? 0) + embed.description!.length + JSON.stringify(embed.fields).length;
    expect(total).toBeLessThanOrEqual(6000);
  });

  it("does not split an emoji when truncating", () => {
    const out = render.truncate(`${"a".repeat(9)}😀😀`, 11);
    expect(out).toBe(`${"a".repeat(9)}…`);
  });
});

describe("render, a clip's buttons, Cancel and the follow-up modals", () => {
  const ids = (m: { components?: render.ButtonRow[] }) =>
    (m.components ?? []).flatMap((r) => r.components.map((c) => c.custom_id));
  const labels = (rows: render.ButtonRow[]) => rows.flatMap((r) => r.components.map((c) => c.label));

  it("puts the five follow-up buttons under a delivered video, naming only the job", () => {
    const message = render.delivered("en", job, { charged: 300, tookMs: 1000, balance: 700 });
    expect(ids(message)).toEqual([
      "kb1:reroll:7",
      "kb1:edit:7",
      "kb1:continue:7",
      "kb1:reference:7",
      "kb1:share:7",
    ]);
    expect(labels(render.videoButtons(job, "ja"))).toEqual([
      "もう一度作る",
      "編集",
      "続きを作る",
      "参照に使う",
      "共有",
    ]);
  });

  it("shows Cancel only while a job waits to be sent", () => {
    expect(ids(render.queued("en", job, 10))).toEqual(["kb1:cancel:7"]);
    expect(ids(render.awaitingApproval("en", job, 10))).toEqual(["kb1:cancel:7"]);
    expect(ids(render.waiting("en", job, { place: 2, why: "turn" }))).toEqual(["kb1:cancel:7"]);
    expect(ids(render.waiting("en", job, { place: 2, why: "slowed" }))).toEqual(["kb1:cancel:7"]);
    expect(ids(render.progress("en", job, { elapsedMs: 0, estimateMs: 60_000 }))).toEqual([]);
    const failed = render.failed("en", job, { code: "CANCELLED", params: { by: job.userId } });
    expect(ids(failed)).toEqual([]);
    expect(labels(render.cancelButtons(job, "ja"))).toEqual(["キャンセル"]);
  });

  it("keeps modal titles and labels within Discord's 45 characters in both languages, with the cost", () => {
    for (const locale of ["en", "ja"] as const) {
      const modals = [
        render.editModal(locale, 1_234_567, { std: 360, pro: 435 }),
        render.continueModal(locale, 1_234_567, 1_200),
        render.referenceModal(locale, 1_234_567, 1_080),
        render.animateModal(locale, "1234567890123456789", { model: "o3-std", duration: 5, cost: 180 }),
      ];
      for (const modal of modals) {
        expect([...modal.title].length, modal.title).toBeLessThanOrEqual(45);
        expect(modal.title.endsWith("…"), modal.title).toBe(false);
        for (const row of modal.components) {
          expect([...row.components[0].label].length).toBeLessThanOrEqual(45);
        }
      }
      expect(modals[0]!.title).toMatch(/360.*435/);
      expect(modals[1]!.title).toContain("1,200");
      expect(modals[3]!.title).toContain("180");
    }
    expect(
      render
        .animateModal("en", "1", { model: "std", duration: 5, cost: 300 })
        .components.map((r) => r.components[0].label),
    ).toEqual(["Prompt", "Duration (seconds)", "Model"]);
  });

  it("posts a shared video with its prompt escaped and its author, pinging nobody", () => {
    const hostile = { ...job, display: { ...job.display, prompt: "@everyone [free](https://x.example)" } };
    const post = render.galleryPost(
      "en",
      hostile,
      { url: "https://cdn.example/v.mp4", limitMiB: 10 },
      "https://discord.com/channels/1/2/3",
    );
    const text = JSON.stringify(post.embeds);
    expect(text).not.toMatch(/@everyone/);
    expect(text).toContain(`<@${job.userId}>`);
    expect(text).toContain("https://discord.com/channels/1/2/3");
    expect(post.pingUserId).toBeUndefined();
  });
});
