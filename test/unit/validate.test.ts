import { describe, expect, it } from "vitest";
import type { AttachmentInfo } from "../../commands/define.js";
import type {
  VideoEditArgs,
  VideoImageArgs,
  VideoReferenceArgs,
  VideoTextArgs,
} from "../../commands/video.js";
import { renderMessage } from "../../src/i18n/index.js";
import {
  validateAnimate,
  validateClipContinue,
  validateClipEdit,
  validateClipReference,
  validateEdit,
  validateImage,
  validateReference,
  validateText,
} from "../../src/video/validate.js";

const png = (name = "a.png", size = 1000): AttachmentInfo => ({
  id: "1",
  name,
  url: `https://cdn.discordapp.com/attachments/1/2/${name}`,
  contentType: "image/png",
  size,
});
const mp4 = (size = 1000): AttachmentInfo => ({
  id: "2",
  name: "v.mp4",
  url: "https://cdn.discordapp.com/attachments/1/2/v.mp4",
  contentType: "video/mp4",
  size,
});

const text = (a: Partial<VideoTextArgs>): VideoTextArgs => ({
  prompt: "a cat on a skateboard",
  model: undefined,
  duration: undefined,
  aspect_ratio: undefined,
  sound: undefined,
  negative_prompt: undefined,
  prompt_fidelity: undefined,
  ...a,
});
const image = (a: Partial<VideoImageArgs>): VideoImageArgs => ({
  prompt: "it turns and smiles",
  image: undefined,
  image_url: undefined,
  end_image: undefined,
  end_image_url: undefined,
  model: undefined,
  duration: undefined,
  aspect_ratio: undefined,
  sound: undefined,
  negative_prompt: undefined,
  prompt_fidelity: undefined,
  ...a,
});
const reference = (a: Partial<VideoReferenceArgs>): VideoReferenceArgs => ({
  prompt: "walks through a city",
  image1: png(),
  image2: undefined,
  image3: undefined,
  image4: undefined,
  image5: undefined,
  image6: undefined,
  image7: undefined,
  video: undefined,
  quality: undefined,
  duration: undefined,
  aspect_ratio: undefined,
  ...a,
});
const edit = (a: Partial<VideoEditArgs>): VideoEditArgs => ({
  prompt: "make it snow",
  video: undefined,
  video_url: undefined,
  quality: undefined,
  keep_original_sound: undefined,
  ...a,
});

/** The problems as an English reply shows them. */
function problems(v: ReturnType<typeof validateText>): string {
  return v.ok ? "" : v.problems.map((p) => renderMessage("en", p)).join("\n");
}

describe("/video text", () => {
  it("defaults to Kling 3.0 std, 5 s, 16:9, with sound", () => {
    const v = validateText(text({}));
    expect(v.ok && v.value.generate).toEqual({
      type: "std-text-to-video",
      prompt: "a cat on a skateboard",
      duration: 5,
      aspectRatio: "16:9",
      sound: true,
      negativePrompt: undefined,
      promptFidelity: undefined,
    });
  });

  it("maps each model to its task type", () => {
    for (const [model, type] of [
      ["pro", "pro-text-to-video"],
      ["std", "std-text-to-video"],
      ["o3-pro", "o3-pro-text-to-video"],
      ["o3-std", "o3-std-text-to-video"],
    ] as const) {
      const v = validateText(text({ model }));
      expect(v.ok && v.value.generate.type).toBe(type);
    }
  });

  it("refuses sound and prompt_fidelity on O3 models, naming them", () => {
    const v = validateText(text({ model: "o3-pro", sound: false, prompt_fidelity: 0.7 }));
    expect(v.ok).toBe(false);
    expect(problems(v)).toContain("`sound`");
    expect(problems(v)).toContain("`prompt_fidelity`");
  });

  it("leaves sound out of O3 requests", () => {
    const v = validateText(text({ model: "o3-std" }));
    expect(v.ok && v.value.generate.sound).toBeUndefined();
  });

  it("refuses a blank prompt and an out-of-range duration", () => {
    const v = validateText(text({ prompt: "   ", duration: 20 }));
    expect(problems(v)).toMatch(/prompt/);
    expect(problems(v)).toMatch(/duration/);
  });

  it("refuses a prompt over 2000 characters", () => {
    expect(problems(validateText(text({ prompt: "x".repeat(2001) })))).toMatch(/2000/);
  });

  it("refuses prompt_fidelity outside 0–1", () => {
    expect(problems(validateText(text({ prompt_fidelity: 1.5 })))).toMatch(/prompt_fidelity/);
  });

  it("follows each server's defaults, whichever server asked before", () => {
    const generate = (defaults: Parameters<typeof validateText>[1]) => {
      const v = validateText(text({}), defaults);
      return v.ok ? { type: v.value.generate.type, sound: v.value.generate.sound } : undefined;
    };
    for (let round = 0; round < 2; round++) {
      expect(generate({})).toEqual({ type: "std-text-to-video", sound: true });
      expect(generate({ defaultModel: "pro", defaultSound: false })).toEqual({
        type: "pro-text-to-video",
        sound: false,
      });
      expect(generate({ defaultModel: "pro" })).toEqual({ type: "pro-text-to-video", sound: true });
      expect(generate({ defaultModel: "o3-std" })).toEqual({
        type: "o3-std-text-to-video",
        sound: undefined,
      });
      const image = validateImage(
        { ...text({}), image: png(), image_url: undefined, end_image: undefined, end_image_url: undefined },
        { defaultSound: false },
      );
      expect(image.ok && image.value.generate.sound).toBe(false);
      expect(problems(validateText(text({ sound: true }), { defaultModel: "o3-pro" }))).toContain("`sound`");
    }
  });
});

describe("/video image", () => {
  it("takes an attachment", () => {
    const v = validateImage(image({ image: png(), model: "pro", sound: false }));
    expect(v.ok && v.value.generate).toMatchObject({
      type: "pro-image-to-video",
      image: png().url,
      sound: false,
    });
  });

  it("takes an https URL and an end image", () => {
    const v = validateImage(image({ image_url: "https://example.com/a.jpg", end_image: png("end.png") }));
    expect(v.ok && v.value.generate).toMatchObject({
      type: "std-image-to-video",
      image: "https://example.com/a.jpg",
      endImage: png("end.png").url,
    });
  });

  it("needs exactly one of image and image_url", () => {
    expect(problems(validateImage(image({})))).toMatch(/`image` or give `image_url`/);
    expect(problems(validateImage(image({ image: png(), image_url: "https://example.com/a.png" })))).toMatch(
      /either `image` or `image_url`, not both/,
    );
    expect(
      problems(
        validateImage(image({ image: png(), end_image: png(), end_image_url: "https://e.com/x.png" })),
      ),
    ).toMatch(/`end_image` or `end_image_url`, not both/);
  });

  it("refuses http links and non-URLs", () => {
    expect(problems(validateImage(image({ image_url: "http://example.com/a.png" })))).toMatch(/https/);
    expect(problems(validateImage(image({ image_url: "javascript:alert(1)" })))).toMatch(/https/);
  });

  it("refuses images of the wrong type or size", () => {
    const gif = { ...png("a.gif"), contentType: "image/gif" };
    expect(problems(validateImage(image({ image: gif })))).toMatch(/PNG, JPEG or WebP/);
    expect(problems(validateImage(image({ image: png("big.png", 11 * 1024 * 1024) })))).toMatch(
      /limit is 10 MiB/,
    );
  });
});

describe("/video reference", () => {
  it("sends every image and the reference video, O3 std by default", () => {
    const v = validateReference(reference({ image2: png("b.png"), video: mp4(), duration: 8 }));
    expect(v.ok && v.value.generate).toEqual({
      type: "o3-std-reference-to-video",
      prompt: "walks through a city",
      duration: 8,
      aspectRatio: "16:9",
      images: [png().url, png("b.png").url],
      video: mp4().url,
    });
  });

  it("maps quality pro", () => {
    const v = validateReference(reference({ quality: "pro" }));
    expect(v.ok && v.value.generate.type).toBe("o3-pro-reference-to-video");
  });

  it("refuses a reference video that is not MP4/MOV", () => {
    const avi = { ...mp4(), contentType: "video/x-msvideo" };
    expect(problems(validateReference(reference({ video: avi })))).toMatch(/MP4 or MOV/);
  });
});

describe("/video edit", () => {
  it("needs a video, keeps its sound by default and sends no duration", () => {
    const v = validateEdit(edit({ video: mp4(), quality: "pro" }));
    expect(v.ok && v.value.generate).toEqual({
      type: "o3-pro-video-edit",
      prompt: "make it snow",
      video: mp4().url,
      keepOriginalSound: true,
    });
    expect(problems(validateEdit(edit({})))).toMatch(/`video` or give `video_url`/);
  });

  it("refuses a video over the size limit", () => {
    expect(problems(validateEdit(edit({ video: mp4(101 * 1024 * 1024) })))).toMatch(/limit is 100 MiB/);
  });
});

describe("every problem at once", () => {
  it("lists field and cross-field problems together", () => {
    const gif = { ...png("a.gif"), contentType: "image/gif" };
    const v = validateImage(
      image({ image: gif, image_url: "https://e.com/a.png", model: "o3-pro", sound: true }),
    );
    const text = problems(v);
    expect(text).toMatch(/PNG, JPEG or WebP/);
    expect(text).toMatch(/not both/);
    expect(text).toMatch(/`sound`/);
  });
});

describe("follow-ups of a delivered clip and of a message's image", () => {
  const clip = { model: "pro", duration: 7, aspectRatio: "9:16" as const, sound: false };
  const frame = "https://cdn.discordapp.com/attachments/1/3/last-frame.png";
  const video = "https://cdn.example.com/videos/abc.mp4";

  it("Edit: an O3 edit of the clip's own link, in the quality typed (any case, full width)", () => {
    const v = validateClipEdit({ prompt: "make it night", quality: " ＰＲＯ " }, video);
    expect(v.ok && v.value.generate).toEqual({
      type: "o3-pro-video-edit",
      prompt: "make it night",
      video,
      keepOriginalSound: true,
    });
    expect(problems(validateClipEdit({ prompt: "x", quality: "ultra" }, video))).toMatch(
      /`quality` must be one of `pro` or `std`: type one of them/,
    );
    const blank = validateClipEdit({ prompt: "x", quality: "" }, video);
    expect(blank.ok && blank.value.generate.type).toBe("o3-std-video-edit");
  });

  it("Continue: the clip's model, duration, aspect ratio and sound, from its last frame", () => {
    const v = validateClipContinue({ prompt: "it jumps" }, frame, clip);
    expect(v.ok && v.value.generate).toMatchObject({
      type: "pro-image-to-video",
      image: frame,
      duration: 7,
      aspectRatio: "9:16",
      sound: false,
    });
    // A server that no longer allows sound: a clip with sound continues without it, rather than being refused.
    const loud = validateClipContinue(
      { prompt: "it jumps" },
      frame,
      { ...clip, sound: true },
      { defaultSound: false },
    );
    expect(loud.ok && loud.value.generate.sound).toBe(false);
  });

  it("Use as reference: the clip as the reference video and its last frame as the reference image", () => {
    const v = validateClipReference({ prompt: "the same, in snow" }, { video, frame }, clip);
    expect(v.ok && v.value.generate).toEqual({
      type: "o3-std-reference-to-video",
      prompt: "the same, in snow",
      duration: 7,
      aspectRatio: "9:16",
      images: [frame],
      video,
    });
  });

  it("Animate: the modal's text read as `/video image` options, refused by name when it does not fit", () => {
    const image = { image: png("beach.png") };
    const ok = validateAnimate({ prompt: "waves", duration: "１０", model: "O3-std" }, image);
    expect(ok.ok && ok.value.generate).toMatchObject({ type: "o3-std-image-to-video", duration: 10 });
    const defaults = validateAnimate({ prompt: "waves", duration: " ", model: "" }, image, {
      defaultModel: "pro",
    });
    expect(defaults.ok && defaults.value.generate).toMatchObject({ type: "pro-image-to-video", duration: 5 });
    const bad = problems(validateAnimate({ prompt: "waves", duration: "five", model: "turbo" }, image));
    expect(bad).toMatch(/`duration` must be a whole number of seconds/);
    expect(bad).toMatch(/`model` must be one of `pro`, `std`, `o3-pro`, or `o3-std`: type one of them/);
    expect(problems(validateAnimate({ prompt: "waves", duration: "2.5", model: "" }, image))).toMatch(
      /`duration`/,
    );
    // An image it cannot use is refused as `image` would be, naming the file.
    const gif = { image: { ...png("cat.gif"), contentType: "image/gif" } };
    expect(problems(validateAnimate({ prompt: "waves", duration: "5", model: "" }, gif))).toMatch(/cat\.gif/);
    const linked = validateAnimate(
      { prompt: "waves", duration: "5", model: "" },
      { image_url: "http://x.example/a.png" },
    );
    expect(problems(linked)).toMatch(/`image_url` must be an https:\/\/ link/);
  });
});
