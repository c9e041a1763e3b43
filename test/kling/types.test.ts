import { describe, expect, it } from "vitest";
import { KlingRequestError } from "../../src/kling/errors.js";
import {
  familyOf,
  type GenerateRequest,
  kindOf,
  parseGenerateRequest,
  TASK_TYPES,
  taskTypeFor,
  toWireBody,
  WIRE_FIELDS,
} from "../../src/kling/types.js";

const IMG = "https://example.com/a.jpg";
const VID = "https://example.com/v.mp4";

function problemsOf(input: unknown): string[] {
  try {
    parseGenerateRequest(input);
  } catch (err) {
    expect(err).toBeInstanceOf(KlingRequestError);
    const e = err as KlingRequestError;
    expect(e.code).toBe("INVALID_REQUEST");
    expect(e.retryable).toBe(false);
    expect(e.maybeSubmitted).toBe(false);
    for (const p of e.problems) expect(e.message).toContain(p);
    return [...e.problems];
  }
  throw new Error("expected the request to be rejected");
}

describe("task types", () => {
  it("has 12 types split into families and kinds", () => {
    expect(TASK_TYPES).toHaveLength(12);
    expect(TASK_TYPES.filter((t) => familyOf(t) === "kling3")).toEqual([
      "pro-text-to-video",
      "pro-image-to-video",
      "std-text-to-video",
      "std-image-to-video",
    ]);
    expect(kindOf("o3-pro-reference-to-video")).toBe("reference-to-video");
    expect(kindOf("o3-std-video-edit")).toBe("video-edit");
    expect(kindOf("std-image-to-video")).toBe("image-to-video");
    expect(kindOf("o3-std-text-to-video")).toBe("text-to-video");
  });

  it("maps kind and model to a type, and only where Kling has one", () => {
    expect(taskTypeFor("text-to-video", "o3-std")).toBe("o3-std-text-to-video");
    expect(taskTypeFor("image-to-video", "pro")).toBe("pro-image-to-video");
    expect(taskTypeFor("reference-to-video", "o3-pro")).toBe("o3-pro-reference-to-video");
    expect(taskTypeFor("video-edit", "o3-std")).toBe("o3-std-video-edit");
    expect(taskTypeFor("reference-to-video", "pro")).toBeUndefined();
    expect(taskTypeFor("video-edit", "std")).toBeUndefined();
  });
});

describe("parseGenerateRequest", () => {
  it("accepts a valid request of each kind and trims the prompt", () => {
    expect(parseGenerateRequest({ type: "pro-text-to-video", prompt: "  eagle  ", duration: 5 })).toEqual({
      type: "pro-text-to-video",
      prompt: "eagle",
      duration: 5,
    });
    expect(
      parseGenerateRequest({ type: "std-image-to-video", prompt: "p", image: IMG, endImage: IMG }).endImage,
    ).toBe(IMG);
    expect(
      parseGenerateRequest({ type: "o3-pro-reference-to-video", prompt: "p", images: [IMG], video: VID })
        .images,
    ).toEqual([IMG]);
    expect(
      parseGenerateRequest({ type: "o3-std-video-edit", prompt: "p", video: VID, keepOriginalSound: true })
        .video,
    ).toBe(VID);
  });

  it("rejects an unknown type", () => {
    expect(problemsOf({ type: "pro-text-to-audio", prompt: "p" })[0]).toMatch(/task type must be one of/);
    expect(problemsOf({ prompt: "p" })).toContain("The task type is missing.");
  });

  it("requires a prompt of 1–2000 characters after trimming", () => {
    expect(problemsOf({ type: "pro-text-to-video", prompt: "   " })).toEqual([
      "The prompt is empty: describe the video you want.",
    ]);
    expect(problemsOf({ type: "pro-text-to-video" })).toEqual([
      "The prompt is missing: describe the video you want.",
    ]);
    expect(problemsOf({ type: "pro-text-to-video", prompt: "x".repeat(2001) })[0]).toMatch(
      /too long.*at most 2000/,
    );
    expect(parseGenerateRequest({ type: "pro-text-to-video", prompt: "x".repeat(2000) }).prompt).toHaveLength(
      2000,
    );
  });

  it("requires a whole duration of 3–15 seconds", () => {
    for (const duration of [2, 16, 5.5, "5"]) {
      expect(problemsOf({ type: "o3-pro-text-to-video", prompt: "p", duration })[0]).toMatch(/duration/i);
    }
    expect(parseGenerateRequest({ type: "o3-pro-text-to-video", prompt: "p", duration: 3 }).duration).toBe(3);
    expect(parseGenerateRequest({ type: "o3-pro-text-to-video", prompt: "p", duration: 15 }).duration).toBe(
      15,
    );
  });

  it("refuses a duration on video edits", () => {
    expect(problemsOf({ type: "o3-pro-video-edit", prompt: "p", video: VID, duration: 5 })[0]).toMatch(
      /no duration/,
    );
  });

  it("checks the aspect ratio", () => {
    expect(problemsOf({ type: "pro-text-to-video", prompt: "p", aspectRatio: "4:3" })[0]).toMatch(
      /16:9, 9:16, 1:1/,
    );
  });

  it("requires an image for image-to-video and refuses it elsewhere", () => {
    expect(problemsOf({ type: "pro-image-to-video", prompt: "p" })[0]).toMatch(/needs a start image/);
    expect(problemsOf({ type: "pro-text-to-video", prompt: "p", image: IMG })[0]).toMatch(
      /does not take a start image/,
    );
  });

  it("allows an end image only for image-to-video", () => {
    expect(problemsOf({ type: "o3-pro-text-to-video", prompt: "p", endImage: IMG })[0]).toMatch(
      /only with image-to-video/,
    );
  });

  it("requires a video for video edits, allows one for reference-to-video only", () => {
    expect(problemsOf({ type: "o3-std-video-edit", prompt: "p" })[0]).toMatch(/needs the video to edit/);
    expect(problemsOf({ type: "pro-image-to-video", prompt: "p", image: IMG, video: VID })[0]).toMatch(
      /does not take a video/,
    );
  });

  it("requires 1–7 reference images for reference-to-video and only there", () => {
    expect(problemsOf({ type: "o3-pro-reference-to-video", prompt: "p" })[0]).toMatch(/needs 1 to 7/);
    expect(problemsOf({ type: "o3-pro-reference-to-video", prompt: "p", images: [] })[0]).toMatch(
      /at least one/,
    );
    expect(
      problemsOf({ type: "o3-pro-reference-to-video", prompt: "p", images: Array(8).fill(IMG) })[0],
    ).toMatch(/at most 7/);
    expect(problemsOf({ type: "o3-pro-text-to-video", prompt: "p", images: [IMG] })[0]).toMatch(
      /only with reference/,
    );
  });

  it("allows sound and prompt fidelity only on Kling 3.0, fidelity within 0–1", () => {
    const problems = problemsOf({
      type: "o3-pro-text-to-video",
      prompt: "p",
      sound: true,
      promptFidelity: 0.5,
    });
    expect(problems).toHaveLength(2);
    expect(problems.join(" ")).toMatch(/Sound.*Kling 3\.0/);
    expect(problems.join(" ")).toMatch(/fidelity.*Kling 3\.0/);
    expect(problemsOf({ type: "pro-text-to-video", prompt: "p", promptFidelity: 1.5 })[0]).toMatch(
      /from 0 to 1/,
    );
    expect(
      parseGenerateRequest({ type: "pro-text-to-video", prompt: "p", promptFidelity: 0, sound: false }),
    ).toMatchObject({
      promptFidelity: 0,
      sound: false,
    });
  });

  it("allows keepOriginalSound only for video edits", () => {
    expect(
      problemsOf({
        type: "o3-pro-reference-to-video",
        prompt: "p",
        images: [IMG],
        keepOriginalSound: true,
      })[0],
    ).toMatch(/only to video edits/);
  });

  it("accepts only http(s) links", () => {
    expect(problemsOf({ type: "pro-image-to-video", prompt: "p", image: "ftp://x/y.jpg" })[0]).toMatch(
      /http/,
    );
    expect(problemsOf({ type: "o3-std-video-edit", prompt: "p", video: "not a url" })[0]).toMatch(/http/);
    expect(
      problemsOf({ type: "o3-std-reference-to-video", prompt: "p", images: [IMG, "file:///etc/passwd"] })[0],
    ).toMatch(/reference image/);
  });

  it("rejects unknown fields and non-objects", () => {
    expect(problemsOf({ type: "pro-text-to-video", prompt: "p", aspect_ratio: "16:9" })[0]).toMatch(
      /Unknown field.*aspect_ratio/,
    );
    expect(problemsOf("pro-text-to-video")).toEqual(["The request must be an object."]);
  });

  it("lists every problem at once, even when the prompt is also wrong", () => {
    const problems = problemsOf({
      type: "o3-pro-video-edit",
      prompt: "",
      duration: 99,
      images: [IMG],
      sound: true,
    });
    expect(problems.length).toBeGreaterThanOrEqual(5);
    expect(problems.join("\n")).toMatch(/prompt is empty/);
    expect(problems.join("\n")).toMatch(/needs the video/);
  });
});

describe("toWireBody", () => {
  it("maps every field through WIRE_FIELDS, including the guessed names", () => {
    const req: GenerateRequest = {
      type: "pro-image-to-video",
      prompt: "p",
      duration: 7,
      aspectRatio: "9:16",
      image: IMG,
      endImage: "https://example.com/end.jpg",
      sound: false,
      negativePrompt: "blur",
      promptFidelity: 0.7,
    };
    expect(toWireBody(req)).toEqual({
      type: "pro-image-to-video",
      prompt: "p",
      duration: 7,
      aspect_ratio: "9:16",
      image: IMG,
      image_tail: "https://example.com/end.jpg",
      sound: false,
      negative_prompt: "blur",
      cfg_scale: 0.7,
    });
    expect(WIRE_FIELDS.endImage).toBe("image_tail");
    expect(WIRE_FIELDS.negativePrompt).toBe("negative_prompt");
    expect(WIRE_FIELDS.promptFidelity).toBe("cfg_scale");
  });

  it("omits undefined fields and never sends a duration for edits", () => {
    expect(
      toWireBody({
        type: "o3-std-video-edit",
        prompt: "p",
        video: VID,
        duration: 5,
        sound: undefined,
        keepOriginalSound: false,
      }),
    ).toEqual({ type: "o3-std-video-edit", prompt: "p", video: VID, keep_original_sound: false });
  });
});
