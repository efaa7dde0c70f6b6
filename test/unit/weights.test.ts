import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CapacityClass,
  capacityClassOf,
  defaultWeightMicro,
  fits,
  formatWeight,
  parseWeight,
} from "../../functions/core/weights.js";

describe("weights in micro-units", () => {
  it.each([
    ["0.25", 250_000],
    ["1", 1_000_000],
    ["1.0", 1_000_000],
    [".5", 500_000],
    ["0.000001", 1],
    ["0.3333339", 333_333],
    [" 0.5 ", 500_000],
    [0.25, 250_000],
    [1, 1_000_000],
  ])("parses %j as %i", (raw, micro) => {
    expect(parseWeight(raw)).toEqual({ ok: true, micro });
  });

  it.each([
    ["0", "must be greater than 0"],
    ["0.0", "must be greater than 0"],
    ["-0.5", "must be a decimal number between 0 and 1"],
    ["1.5", "must be at most 1"],
    ["2", "must be at most 1"],
    ["1.0000001", "must be at most 1"],
    ["0.0000001", "must be at least 0.000001"],
    ["abc", "must be a decimal number between 0 and 1"],
    ["", "must be a decimal number between 0 and 1"],
    [".", "must be a decimal number between 0 and 1"],
    ["1e-1", "must be a decimal number between 0 and 1"],
    ["NaN", "must be a decimal number between 0 and 1"],
    [-1, "must be a decimal number between 0 and 1"],
    [Number.NaN, "must be a decimal number between 0 and 1"],
    [null, "must be a decimal number, got null"],
    [true, "must be a decimal number, got boolean"],
    [{}, "must be a decimal number, got an object"],
  ])("refuses %j: %s", (raw, problem) => {
    const result = parseWeight(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain(problem);
  });

  it("parses any decimal of up to six places exactly, without floating point", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (micro) => {
        const text = formatWeight(micro);
        expect(parseWeight(text)).toEqual({ ok: true, micro });
      }),
    );
  });

  it("defaults to floor(1,000,000 / max workers)", () => {
    expect(defaultWeightMicro(4)).toBe(250_000);
    expect(defaultWeightMicro(3)).toBe(333_333);
    expect(defaultWeightMicro(10)).toBe(100_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (workers) => {
        // max workers default-weight runs always fit together.
        expect(defaultWeightMicro(workers) * workers).toBeLessThanOrEqual(1_000_000);
      }),
    );
    expect(() => defaultWeightMicro(0)).toThrow(RangeError);
  });

  it("fits exactly up to the budget", () => {
    expect(fits(750_000, 250_000)).toBe(true);
    expect(fits(750_001, 250_000)).toBe(false);
    expect(fits(0, 1_000_000)).toBe(true);
    expect(fits(1, 1_000_000)).toBe(false);
  });

  it("puts RUN_ASSERTION on the monitors budget and every other task on ingestion", () => {
    expect(capacityClassOf("RUN_ASSERTION")).toBe(CapacityClass.MONITORS);
    expect(capacityClassOf("RUN_INGEST")).toBe(CapacityClass.INGESTION);
    expect(capacityClassOf("TEST_CONNECTION")).toBe(CapacityClass.INGESTION);
  });
});
