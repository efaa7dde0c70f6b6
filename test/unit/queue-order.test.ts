import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { queueKeyFor } from "../../functions/core/run-record.js";

describe("queue keys sort as (priority desc, arrival asc, run id)", () => {
  it("agrees with the intended order for any two runs", () => {
    const run = fc.record({
      priority: fc.integer({ min: -1000, max: 1000 }),
      arrivedAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      runId: fc.stringMatching(/^[0-9a-f]{24}$/),
    });
    fc.assert(
      fc.property(run, run, (a, b) => {
        const intended =
          b.priority - a.priority || a.arrivedAt - b.arrivedAt || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);
        const ka = queueKeyFor(a.priority, a.arrivedAt, a.runId);
        const kb = queueKeyFor(b.priority, b.arrivedAt, b.runId);
        const actual = ka < kb ? -1 : ka > kb ? 1 : 0;
        expect(Math.sign(actual)).toBe(Math.sign(intended));
      }),
      { numRuns: 5000 },
    );
  });
});
