import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { reconcilePools } from "../../functions/app/reconcile-pools.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import type { TaskStateChangeEvent } from "../../functions/core/task-state-change-event.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import {
  crashingAfterFinish,
  createFixture,
  type Fixture,
  InjectedCrash,
  runMessage,
} from "../support/executor-fixture.js";

const RUNS = ["r0", "r1", "r2", "r3"] as const;
const WEIGHTS: Record<(typeof RUNS)[number], string | undefined> = {
  r0: undefined,
  r1: "0.25",
  r2: "1.0",
  r3: undefined,
};
const TERMINAL = new Set(["SUCCESS", "FAILURE", "CANCELLED", "TIMEOUT", "ABORTED"]);
const urn = (id: string) => `urn:li:dataHubExecutionRequest:${id}`;

type Op =
  | { t: "admit"; i: number }
  | { t: "running"; i: number }
  | { t: "stop"; i: number; how: "exit0" | "exit1" | "oom" | "failedToStart" }
  | { t: "crash-stop"; i: number }
  | { t: "dup" }
  | { t: "cancel"; i: number }
  | { t: "reconcile"; minutes: number }
  | { t: "gms"; down: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("admit" as const), i: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("running" as const), i: fc.nat(3) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("stop" as const),
      i: fc.nat(3),
      how: fc.constantFrom("exit0" as const, "exit1" as const, "oom" as const, "failedToStart" as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash-stop" as const), i: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.constant({ t: "dup" as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("cancel" as const), i: fc.nat(3) }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("reconcile" as const), minutes: fc.integer({ min: 0, max: 20 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("gms" as const), down: fc.boolean() }) },
);

const STOPS = {
  exit0: { containers: [{ name: "ingestion", exitCode: 0 }] },
  exit1: { containers: [{ name: "ingestion", exitCode: 1 }] },
  oom: {
    containers: [
      { name: "ingestion", exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" },
    ],
  },
  failedToStart: {
    stopCode: "TaskFailedToStart",
    stoppedReason: "Timeout waiting for network interface provisioning to complete.",
    containers: [],
  },
};

/** Everything that must hold after every step, whatever came before. */
async function checkInvariants(fx: Fixture, admitted: Set<string>): Promise<void> {
  const runs = (await Promise.all(RUNS.map((id) => fx.deps.runs.getRun(runIdFor(urn(id)))))).filter(
    (r) => r !== undefined,
  );
  for (const capacityClass of ["INGESTION"] as const) {
    const counter = await fx.deps.runs.readCapacity("main", capacityClass);
    const holding = runs.filter((r) => r.holdsCapacity);
    expect(counter.usedMicro).toBe(holding.reduce((sum, r) => sum + r.weightMicro, 0));
    expect(counter.holders).toBe(holding.length);
    expect(counter.usedMicro).toBeLessThanOrEqual(1_000_000);
  }
  const perAttempt = new Map<string, number>();
  for (const task of await fx.listTasks())
    perAttempt.set(task.startedBy ?? "", (perAttempt.get(task.startedBy ?? "") ?? 0) + 1);
  for (const [token, count] of perAttempt) expect(count, `tasks for ${token}`).toBe(1);
  const queued = new Set((await fx.deps.runs.readQueue("main", "INGESTION", 100)).map((e) => e.runId));
  const active = new Set((await fx.deps.runs.listActiveRuns("main")).map((r) => r.runId));
  for (const id of admitted) {
    const run = runs.find((r) => r.executionRequestUrn === urn(id));
    expect(run, `run ${id} was lost`).toBeDefined();
    if (run === undefined || TERMINAL.has(run.state)) continue;
    if (run.state === "WAITING") expect(queued.has(run.runId), `${id} waits but is not queued`).toBe(true);
    else expect(active.has(run.runId), `${id} is ${run.state} but not active`).toBe(true);
  }
  for (const id of RUNS) {
    const writes = fx.gms.resultWrites(urn(id));
    const firstTerminal = writes.findIndex((s) => TERMINAL.has(s));
    expect(writes.filter((s) => TERMINAL.has(s)).length, `terminal writes of ${id}`).toBeLessThanOrEqual(1);
    if (firstTerminal >= 0) expect(writes.slice(firstTerminal + 1), `writes after ${id}'s end`).toEqual([]);
  }
  expect(fx.gms.violations).toEqual([]);
  expect(fx.gms.refusals).toEqual([]);
}

describe("random interleavings of admit, launch, events, duplicates, cancels, crashes and reconcile", () => {
  it("keep the budget, lose no run, start one task per attempt and write one terminal status per run", {
    timeout: 600_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 12 }), async (ops) => {
        let now = 1_764_300_000_000;
        const fx = await createFixture({
          pools: { main: { ingestionMaxWorkers: 2, maxAttempts: 2 } },
          clock: () => now,
        });
        const onEvent = createTaskStateChangeHandler(fx.deps);
        const admitted = new Set<string>();
        let lastEvent: TaskStateChangeEvent | undefined;
        const runOf = async (i: number) => fx.deps.runs.getRun(runIdFor(urn(RUNS[i] ?? "r0")));
        for (const step of ops) {
          now += 1_000;
          const id = "i" in step ? (RUNS[step.i] ?? "r0") : "r0";
          if (step.t === "admit") {
            const weight = WEIGHTS[id as (typeof RUNS)[number]];
            await fx.dispatch([
              runMessage({ id, ...(weight === undefined ? {} : { extraEnv: { EXECUTOR_TASK_WEIGHT: weight } }) }),
            ]);
            admitted.add(id);
          } else if (step.t === "running" || step.t === "stop" || step.t === "crash-stop") {
            const run = await runOf(step.i);
            if (run?.taskArn === undefined || run.launch === undefined) continue;
            if (step.t === "running") {
              lastEvent = await fx.runningEvent(run.runId);
              await onEvent(lastEvent);
            } else if (step.t === "stop") {
              lastEvent = await fx.stoppedEvent(run.runId, STOPS[step.how]);
              await onEvent(lastEvent);
            } else {
              lastEvent = await fx.stoppedEvent(run.runId, STOPS.exit0);
              const crashing = crashingAfterFinish(fx.deps);
              // Only a run that still holds weight gets as far as the release that crashes.
              if (run.holdsCapacity)
                await expect(createTaskStateChangeHandler(crashing)(lastEvent)).rejects.toThrow(InjectedCrash);
              else await createTaskStateChangeHandler(crashing)(lastEvent);
            }
          } else if (step.t === "dup") {
            if (lastEvent !== undefined) await onEvent(lastEvent);
          } else if (step.t === "cancel") {
            await fx.dispatch([JSON.stringify({ version: 1, kind: "cancel", executionRequestUrn: urn(id) })]);
          } else if (step.t === "reconcile") {
            now += step.minutes * 60_000;
            await reconcilePools(fx.deps);
          } else {
            fx.gms.setDown(step.down);
          }
          await checkInvariants(fx, admitted);
        }

        // Let everything finish: GMS back, every task ends, backoffs pass, the reconciler catches up.
        fx.gms.setDown(false);
        for (let round = 0; round < 8; round++) {
          for (let i = 0; i < RUNS.length; i++) {
            const run = await runOf(i);
            if (run?.taskArn !== undefined && run.holdsCapacity)
              await onEvent(await fx.stoppedEvent(run.runId, STOPS.exit0));
          }
          now += 16 * 60_000;
          await reconcilePools(fx.deps);
          await checkInvariants(fx, admitted);
        }
        for (const id of admitted) {
          const run = await fx.deps.runs.getRun(runIdFor(urn(id)));
          expect(TERMINAL.has(run?.state ?? ""), `${id} ended ${run?.state}`).toBe(true);
          expect(fx.gms.resultWrites(urn(id)).filter((s) => TERMINAL.has(s))).toHaveLength(1);
        }
        expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
        expect(await fx.deps.outbox.listPending()).toEqual([]);
      }),
      { numRuns: Number(process.env.INTERLEAVING_RUNS ?? 8), seed: Number(process.env.INTERLEAVING_SEED ?? 20261128) },
    );
  });
});
