import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRunMessage } from "../../functions/core/execution-request-message.js";
import { planRun } from "../../functions/core/plan-run.js";
import { type Pool, PoolSettings } from "../../functions/core/pool.js";
import { BadInputError } from "../../functions/core/rejection.js";
import { hostileBody } from "../support/hostile-bodies.js";

const pool: Pool = { id: "main", isDefault: true, ...PoolSettings.parse({}) };

describe("fuzzing message parsing and planning", () => {
  it("either plans a run or refuses with a BadInputError and a reason; nothing else escapes", {
    timeout: 120_000,
  }, () => {
    let planned = 0;
    let refused = 0;
    fc.assert(
      fc.property(hostileBody(), (body) => {
        try {
          const plan = planRun(parseRunMessage(body), pool);
          expect(plan.weightMicro).toBeGreaterThan(0);
          expect(plan.weightMicro).toBeLessThanOrEqual(1_000_000);
          planned++;
        } catch (error) {
          if (!(error instanceof BadInputError)) throw error;
          expect(error.reason.length).toBeGreaterThan(0);
          expect(error.reason.length).toBeLessThan(1000);
          refused++;
        }
      }),
      { numRuns: 10_000, seed: 4242 },
    );
    expect(planned).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(5000);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
