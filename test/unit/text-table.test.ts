import { describe, expect, it } from "vitest";
import { usageCsv } from "../../src/discord/render.js";
import { cell, displayWidth, textTable } from "../../src/discord/text-table.js";

describe("tables in a code block", () => {
  it("counts wide characters and emoji as two columns, combining marks and joiners as none", () => {
    expect(displayWidth("Ann")).toBe(3);
    expect(displayWidth("さくら")).toBe(6);
    expect(displayWidth("ＡＢ")).toBe(4);
    expect(displayWidth("🌸")).toBe(2);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(displayWidth("a\u200db")).toBe(2);
  });

  it("keeps a cell on one line, unable to close the block or reorder the row, cut at its width", () => {
    expect(cell("```@everyone```", 30)).toBe("'''@everyone'''");
    expect(cell("line\nbreak\ttab", 30)).toBe("line break tab");
    expect(cell("\u202Egnp.exe", 30)).toBe("gnp.exe");
    expect(cell("abcdefghij", 6)).toBe("abcde…");
    expect(cell("さくらさくら", 7)).toBe("さくら…");
    expect(displayWidth(cell("さくらさくら", 7))).toBeLessThanOrEqual(7);
  });

  it("aligns columns by display width, figures to the right", () => {
    expect(
      textTable(
        ["Name", "Credits"],
        [
          ["さくら", "12,180"],
          ["Ann", "600"],
        ],
        [1],
      ),
    ).toEqual(["Name    Credits", "さくら   12,180", "Ann         600"]);
  });
});

describe("the usage CSV", () => {
  it("has a header and one row per member and model, CRLF, quoting what needs it", () => {
    const csv = usageCsv([
      { userId: "1", name: "Ann", model: "std", jobs: 2, credits: 600 },
      { userId: "2", name: "x", model: 'odd,"type"', jobs: 1, credits: 5 },
    ]).toString("utf8");
    expect(csv).toBe('member_id,model,jobs,credits\r\n1,std,2,600\r\n2,"odd,""type""",1,5\r\n');
  });
});
