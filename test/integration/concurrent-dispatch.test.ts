import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ACTIVITY_INDEX, Keys } from "../../functions/adapters/dynamodb/table-keys.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createFixture, type Fixture, runMessage } from "../support/executor-fixture.js";

const BUDGET = 1_000_000;
const WEIGHTS = ["0.1", "0.25", "0.3", "0.5", "1.0", undefined] as const;

/** Samples the pool counter and the runs holding weight until stopped; records every violation it sees. */
function startSampler(fx: Fixture) {
  const violations: string[] = [];
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const capacity = await fx.deps.runs.readCapacity("main", "INGESTION");
      const { Items = [] } = await fx.doc.send(
        new QueryCommand({
          TableName: fx.stack.config.tableName,
          IndexName: ACTIVITY_INDEX,
          KeyConditionExpression: "activityPk = :pk",
          ExpressionAttributeValues: { ":pk": Keys.activityPartition("main") },
        }),
      );
      const held = Items.reduce((sum, item) => sum + Number(item.weightMicro), 0);
      if (capacity.usedMicro > BUDGET) violations.push(`counter at ${capacity.usedMicro}`);
      if (held > BUDGET) violations.push(`runs holding weight sum to ${held}`);
      if (capacity.usedMicro < 0) violations.push(`counter below zero: ${capacity.usedMicro}`);
      samples++;
      // Leave moto (which answers one request at a time) mostly to the dispatchers.
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { violations, samples };
    },
  };
}

describe("eight dispatchers at once", () => {
  it("never exceed the budget, and every run launches exactly once as runs are released", {
    timeout: 240_000,
  }, async () => {
    const fx = await createFixture();
    const weights = fc.sample(fc.constantFrom(...WEIGHTS), { numRuns: 100, seed: 42 });
    const bodies = weights.map((weight, i) =>
      runMessage({ id: `run-${i}`, ...(weight === undefined ? {} : { extraEnv: { EXECUTOR_TASK_WEIGHT: weight } }) }),
    );
    const batches: string[][] = [];
    for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));

    const sampler = startSampler(fx);
    // Eight concurrent "Lambda invocations" take batches off the same list, as SQS would hand them out.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let batch = batches.shift(); batch !== undefined; batch = batches.shift()) {
          const response = await fx.dispatch(batch);
          expect(response.batchItemFailures).toEqual([]);
        }
      }),
    );

    const runIds = weights.map((_, i) => runIdFor(`urn:li:dataHubExecutionRequest:run-${i}`));
    const finished = new Set<string>();
    // Release the launched runs one by one; each release starts what fits next.
    for (let guard = 0; finished.size < runIds.length && guard < 500; guard++) {
      const active = await fx.deps.runs.listActiveRuns("main");
      const next = active.find((run) => run.state === "LAUNCHED");
      if (next === undefined)
        throw new Error(`nothing is running but ${runIds.length - finished.size} runs are not done`);
      const result = await fx.finishTask(next.runId);
      expect(result.outcome).toMatchObject({ kind: "finished", state: "SUCCESS" });
      finished.add(next.runId);
    }
    const { violations, samples } = await sampler.stop();
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(10);

    const tasks = await fx.listTasks();
    const perRun = new Map<string, number>();
    for (const task of tasks) perRun.set(task.startedBy ?? "", (perRun.get(task.startedBy ?? "") ?? 0) + 1);
    expect(tasks).toHaveLength(100);
    for (const runId of runIds) {
      expect(perRun.get(`dhx-${runId}-1`)).toBe(1);
      expect((await fx.deps.runs.getRun(runId))?.state).toBe("SUCCESS");
    }
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
  });
});
