import { describe, expect, it } from "vitest";
import { cost, costOfRequest, describePrice, PRICES, priceTable } from "../../src/kling/pricing.js";
import { TASK_TYPES, type TaskType } from "../../src/kling/types.js";

// [type, 5 s with sound, 5 s without sound, 15 s with sound] — written out from the seed's table, not computed.
const EXPECTED: [TaskType, number, number, number][] = [
  ["pro-text-to-video", 400, 270, 1200],
  ["pro-image-to-video", 400, 270, 1200],
  ["std-text-to-video", 300, 200, 900],
  ["std-image-to-video", 300, 200, 900],
  ["o3-pro-text-to-video", 240, 240, 720],
  ["o3-pro-image-to-video", 240, 240, 720],
  ["o3-pro-reference-to-video", 360, 360, 1080],
  ["o3-pro-video-edit", 435, 435, 435],
  ["o3-std-text-to-video", 180, 180, 540],
  ["o3-std-image-to-video", 180, 180, 540],
  ["o3-std-reference-to-video", 100, 100, 300],
  ["o3-std-video-edit", 360, 360, 360],
];

describe("cost", () => {
  it("matches the seed's example: pro-text-to-video, 5 s, with audio = 400", () => {
    expect(cost("pro-text-to-video", 5, true)).toBe(400);
  });

  it.each(EXPECTED)("%s", (type, withSound5, withoutSound5, withSound15) => {
    expect(cost(type, 5, true)).toBe(withSound5);
    expect(cost(type, 5, false)).toBe(withoutSound5);
    expect(cost(type, 15, true)).toBe(withSound15);
  });

  it("covers all 12 task types", () => {
    expect(EXPECTED.map(([t]) => t).sort()).toEqual([...TASK_TYPES].sort());
    expect(Object.keys(PRICES).sort()).toEqual([...TASK_TYPES].sort());
  });

  it("uses the API's defaults: 5 s with sound", () => {
    expect(cost("std-text-to-video")).toBe(300);
    expect(costOfRequest({ type: "pro-image-to-video" })).toBe(400);
    expect(costOfRequest({ type: "pro-image-to-video", duration: 10, sound: false })).toBe(540);
    expect(costOfRequest({ type: "o3-pro-video-edit" })).toBe(435);
  });

  it("charges edits a fixed price whatever duration is passed", () => {
    expect(cost("o3-pro-video-edit", 0, false)).toBe(435);
    expect(cost("o3-std-video-edit", 15, true)).toBe(360);
  });

  it("refuses durations the API would refuse instead of pricing them", () => {
    expect(() => cost("pro-text-to-video", 2, true)).toThrow(RangeError);
    expect(() => cost("o3-std-text-to-video", 16)).toThrow(RangeError);
    expect(() => cost("std-text-to-video", 4.5)).toThrow(RangeError);
    expect(() => cost("nope" as TaskType, 5)).toThrow(RangeError);
  });

  it("describes prices in words", () => {
    expect(describePrice("pro-text-to-video")).toBe("80/s with audio, 54/s without");
    expect(describePrice("o3-pro-reference-to-video")).toBe("72/s");
    expect(describePrice("o3-std-video-edit")).toBe("360 fixed");
    expect(priceTable().map((r) => r.type)).toEqual([...TASK_TYPES]);
  });
});
