import { describe, expect, it } from "vitest";
import { explainRun } from "../../functions/app/explain-run.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createFixture, runMessage } from "../support/executor-fixture.js";

const urn = (id: string) => `urn:li:dataHubExecutionRequest:${id}`;

describe("weights and the waiting queue", () => {
  it("starts four default-weight runs, holds the fifth, and starts it in the same invocation as a release", async () => {
    const fx = await createFixture();
    const ids = ["r1", "r2", "r3", "r4", "r5"];
    for (const id of ids) await fx.dispatch([runMessage({ id })]);

    const states = async () =>
      Promise.all(ids.map(async (id) => (await fx.deps.runs.getRun(runIdFor(urn(id))))?.state));
    expect(await states()).toEqual(["LAUNCHED", "LAUNCHED", "LAUNCHED", "LAUNCHED", "WAITING"]);
    expect(await fx.listTasks()).toHaveLength(4);
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 1_000_000, holders: 4 });

    const why = await explainRun(fx.deps, runIdFor(urn("r5")));
    expect(why?.wait?.cause).toBe("no-room");
    expect(why?.wait?.text).toBe(
      'first in the queue, waiting for weight to be released; pool "main" (ingestion) has 0 of 1 free; this run needs 0.25',
    );

    const finished = await fx.finishTask(runIdFor(urn("r2")));
    expect(finished.outcome).toMatchObject({ kind: "finished", state: "SUCCESS" });
    expect(finished.schedule.launches.map((l) => l.kind)).toEqual(["launched"]);
    expect(finished.schedule.launches[0]?.runId).toBe(runIdFor(urn("r5")));
    expect(await states()).toEqual(["LAUNCHED", "SUCCESS", "LAUNCHED", "LAUNCHED", "LAUNCHED"]);
    expect(await fx.listTasks()).toHaveLength(5);

    // Releasing the same run again gives nothing back twice.
    const again = await fx.finishTask(runIdFor(urn("r2")));
    expect(again.outcome).toEqual({ kind: "already-done" });
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 1_000_000, holders: 4 });
  });

  it("starts a weight-1.0 run only on an empty pool, runs it alone, and never lets lighter runs overtake it", async () => {
    const fx = await createFixture();
    await fx.dispatch([runMessage({ id: "light-1" })]);
    await fx.dispatch([runMessage({ id: "heavy", extraEnv: { EXECUTOR_TASK_WEIGHT: "1.0" } })]);
    await fx.dispatch([runMessage({ id: "light-2" })]);

    const state = async (id: string) => (await fx.deps.runs.getRun(runIdFor(urn(id))))?.state;
    expect(await state("light-1")).toBe("LAUNCHED");
    expect(await state("heavy")).toBe("WAITING");
    // light-2 would fit, but it is behind the heavy run.
    expect(await state("light-2")).toBe("WAITING");
    expect((await explainRun(fx.deps, runIdFor(urn("light-2"))))?.wait?.text).toMatch(/^1 run is ahead of it/);

    await fx.finishTask(runIdFor(urn("light-1")));
    expect(await state("heavy")).toBe("LAUNCHED");
    expect(await state("light-2")).toBe("WAITING");
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 1_000_000, holders: 1 });

    await fx.finishTask(runIdFor(urn("heavy")));
    expect(await state("light-2")).toBe("LAUNCHED");
  });

  it("starts higher-priority runs first and keeps arrival order within a priority", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    await fx.dispatch([runMessage({ id: "running" })]);
    await fx.dispatch([runMessage({ id: "low-a" })]);
    await fx.dispatch([runMessage({ id: "low-b" })]);
    await fx.dispatch([runMessage({ id: "urgent", priority: 10 })]);

    const order: string[] = [];
    let current = "running";
    for (let i = 0; i < 3; i++) {
      const { schedule } = await fx.finishTask(runIdFor(urn(current)));
      const next = schedule.launches[0]?.runId;
      const id = ["low-a", "low-b", "urgent"].find((candidate) => runIdFor(urn(candidate)) === next);
      if (id === undefined) throw new Error("nothing launched after a release");
      order.push(id);
      current = id;
    }
    expect(order).toEqual(["urgent", "low-a", "low-b"]);
  });

  it("keeps a separate budget for each pool", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 }, other: { ingestionMaxWorkers: 1 } } });
    await fx.dispatch([runMessage({ id: "a", pool: "main" }), runMessage({ id: "b", pool: "other" })]);
    expect((await fx.deps.runs.getRun(runIdFor(urn("a"))))?.state).toBe("LAUNCHED");
    expect((await fx.deps.runs.getRun(runIdFor(urn("b"))))?.state).toBe("LAUNCHED");
  });
});
