import { describe, expect, it } from "vitest";
import {
  chooseFargateSize,
  FARGATE_SIZES,
  type FargateSize,
  hourlyPriceUsd,
  LARGEST_FARGATE_SIZE,
} from "../../functions/core/fargate-sizing.js";

// The published table, written out independently of the code's row encoding.
const PUBLISHED: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let m = from; m <= to; m += step) out.push(m);
  return out;
}

const isValid = (size: FargateSize) => PUBLISHED[size.cpu]?.includes(size.memoryMiB) ?? false;
const allPublished: FargateSize[] = Object.entries(PUBLISHED).flatMap(([cpu, memories]) =>
  memories.map((memoryMiB) => ({ cpu: Number(cpu), memoryMiB })),
);

describe("Fargate sizing", () => {
  it("knows exactly the published pairs", () => {
    const key = (s: FargateSize) => `${s.cpu}/${s.memoryMiB}`;
    expect(new Set(FARGATE_SIZES.map(key))).toEqual(new Set(allPublished.map(key)));
  });

  it("for every limit from 1 MiB to 120 GiB picks a valid pair that holds it, and no valid pair is cheaper", {
    timeout: 120_000,
  }, () => {
    // Brute force: the cheapest published pair for every MiB, from the largest limit down.
    const byPrice = [...allPublished].sort((a, b) => hourlyPriceUsd(a) - hourlyPriceUsd(b));
    let checked = 0;
    for (let mib = 1; mib <= 120 * 1024; mib++) {
      const { size, note } = chooseFargateSize(mib * 1024);
      expect(note).toBeUndefined();
      if (!isValid(size) || size.memoryMiB < mib)
        throw new Error(`invalid choice for ${mib} MiB: ${JSON.stringify(size)}`);
      const cheapest = byPrice.find((s) => s.memoryMiB >= mib);
      if (cheapest === undefined || hourlyPriceUsd(cheapest) < hourlyPriceUsd(size) - 1e-12) {
        throw new Error(`${mib} MiB: chose ${JSON.stringify(size)} but ${JSON.stringify(cheapest)} is cheaper`);
      }
      checked++;
    }
    expect(checked).toBe(122_880);
  });

  it("rounds a KiB limit up to whole MiB", () => {
    expect(chooseFargateSize(512 * 1024).size).toEqual({ cpu: 256, memoryMiB: 512 });
    expect(chooseFargateSize(512 * 1024 + 1).size).toEqual({ cpu: 256, memoryMiB: 1024 });
    expect(chooseFargateSize(1).size).toEqual({ cpu: 256, memoryMiB: 512 });
  });

  it("runs a limit above 120 GiB at the largest size and says so", () => {
    const decision = chooseFargateSize(128_000_000);
    expect(decision.size).toEqual(LARGEST_FARGATE_SIZE);
    expect(decision.note).toContain("128000000 KiB");
    expect(decision.note).toContain("largest");
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => chooseFargateSize(0)).toThrow(RangeError);
    expect(() => chooseFargateSize(1.5)).toThrow(RangeError);
  });
});
