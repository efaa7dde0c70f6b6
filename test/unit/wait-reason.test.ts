import { describe, expect, it } from "vitest";
import { describeWait } from "../../functions/core/wait-reason.js";

const facts = {
  poolId: "main",
  capacityClass: "INGESTION" as const,
  weightMicro: 250_000,
  usedMicro: 1_000_000,
  runsAhead: 0,
  nowMs: 10_000,
};

describe("why a run waits", () => {
  it("names the pool, the free weight and the weight it needs", () => {
    expect(describeWait(facts)).toEqual({
      cause: "no-room",
      text: 'first in the queue, waiting for weight to be released; pool "main" (ingestion) has 0 of 1 free; this run needs 0.25',
    });
  });
  it("counts the runs ahead", () => {
    expect(describeWait({ ...facts, runsAhead: 3, usedMicro: 900_000 }).text).toBe(
      '3 runs are ahead of it in the queue; pool "main" (ingestion) has 0.1 of 1 free; this run needs 0.25',
    );
  });
  it("tells a launch backoff and its last error", () => {
    const wait = describeWait({
      ...facts,
      notBeforeMs: 40_000,
      lastLaunchError: "RunTask failure: Capacity is unavailable",
    });
    expect(wait.cause).toBe("launch-backoff");
    expect(wait.text).toMatch(/^retrying its launch in 30 s after: RunTask failure: Capacity is unavailable;/);
  });
  it("says when it is about to start", () => {
    expect(describeWait({ ...facts, usedMicro: 0 }).cause).toBe("about-to-start");
  });
});
