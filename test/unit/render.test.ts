import { describe, expect, it } from "vitest";
import * as render from "../../src/discord/render.js";

const job: render.JobSummary = {
  id: 7,
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

  it("pings nobody unless the requester is named", () => {
    expect(render.queued("en", job, 10).pingUserId).toBeUndefined();
    expect(render.delivered("en", job, { charged: 300, tookMs: 1000 }).pingUserId).toBeUndefined();
    const fallback = render.delivered("en", job, { charged: 300, tookMs: 1000, pingUserId: job.userId });
    expect(fallback.pingUserId).toBe(job.userId);
    expect(fallback.content).toContain(`<@${job.userId}>`);
  });

  it("caps the progress bar below 100% until done", () => {
    const message = render.progress("en", job, { elapsedMs: 10 * 60_000, estimateMs: 60_000 });
    const text = message.embeds[0]?.description ?? "";
    expect(text).toMatch(/95%/);
    expect(text).not.toMatch(/100%/);
  });

  it("rounds elapsed time so that unchanged progress renders the same", () => {
    const a = render.progress("en", job, { elapsedMs: 31_000, estimateMs: 100_000 });
    const b = render.progress("en", job, { elapsedMs: 33_000, estimateMs: 100_000 });
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
      userId: "123456789012345678",
      display: { subcommand: "text", model: "pro", prompt: "p".repeat(3000) },
      estimatedCost: 1,
    };
    const message = render.delivered("en", job, {
      charged: 1,
      tookMs: 1,
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
    const message = render.delivered("en", job, { charged: 300, tookMs: 1000 });
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
    expect(ids(render.waiting("en", job, 2))).toEqual(["kb1:cancel:7"]);
    expect(ids(render.progress("en", job, { elapsedMs: 0, estimateMs: undefined }))).toEqual([]);
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
