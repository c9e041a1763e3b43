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
