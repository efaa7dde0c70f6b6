import { describe, expect, it } from "vitest";
import { reconcilePools } from "../../functions/app/reconcile-pools.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createDispatchHandler } from "../../functions/handlers/dispatch-request.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import { createFixture, type Fixture, runMessage, sqsRecord } from "../support/executor-fixture.js";

const urn = (id: string) => `urn:li:dataHubExecutionRequest:${id}`;
const runId = (id: string) => runIdFor(urn(id));
const cancelMessage = (id: string) => JSON.stringify({ version: 1, kind: "cancel", executionRequestUrn: urn(id) });

async function run(fx: Fixture, id: string) {
  return fx.deps.runs.getRun(runId(id));
}

function writes(fx: Fixture, id: string): string[] {
  expect(fx.gms.violations).toEqual([]);
  return fx.gms.resultWrites(urn(id));
}

describe("cancel", () => {
  it("takes a waiting run off its queue and reports it CANCELLED at once", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    // Two deliveries: records of one batch are handled concurrently, in no set order.
    await fx.dispatch([runMessage({ id: "busy" })]);
    await fx.dispatch([runMessage({ id: "queued" })]);
    expect((await run(fx, "queued"))?.state).toBe("WAITING");
    await fx.dispatch([cancelMessage("queued")]);
    expect((await run(fx, "queued"))?.state).toBe("CANCELLED");
    expect(writes(fx, "queued")).toEqual(["CANCELLED"]);
    expect(await fx.deps.runs.readQueue("main", "INGESTION", 10)).toEqual([]);
    // Its turn never comes: the release of the busy run starts nothing.
    await createTaskStateChangeHandler(fx.deps)(await fx.stoppedEvent(runId("busy")));
    expect((await run(fx, "queued"))?.state).toBe("CANCELLED");
    expect(await fx.listTasks()).toHaveLength(1);
  });

  it("stops a running run's task with a reason that marks it as ours; STOPPED makes it CANCELLED", async () => {
    const fx = await createFixture();
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await fx.dispatch([runMessage({ id: "long" })]);
    await onEvent(await fx.runningEvent(runId("long")));
    await fx.dispatch([cancelMessage("long")]);
    const [task] = await fx.listTasks();
    expect(task?.lastStatus).toBe("STOPPED");
    expect(task?.stoppedReason).toMatch(/^dhx: cancel: cancel message on the intake queue/);
    expect((await run(fx, "long"))?.stopRequest?.by).toBe("cancel");
    expect((await run(fx, "long"))?.state).toBe("RUNNING");

    // The task's entrypoint exits 4 on SIGTERM; ECS reports the stop.
    await onEvent(
      await fx.stoppedEvent(runId("long"), {
        stopCode: "UserInitiated",
        containers: [{ name: "ingestion", exitCode: 4 }],
      }),
    );
    expect((await run(fx, "long"))?.state).toBe("CANCELLED");
    expect(writes(fx, "long")).toEqual(["RUNNING", "CANCELLED"]);
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
  });

  it("leaves a finished run as it ended, and answers an unknown one as DataHub's executor does", async () => {
    const fx = await createFixture();
    await fx.dispatch([runMessage({ id: "done" })]);
    await createTaskStateChangeHandler(fx.deps)(await fx.stoppedEvent(runId("done")));
    await fx.dispatch([cancelMessage("done"), cancelMessage("never-seen")]);
    expect((await run(fx, "done"))?.state).toBe("SUCCESS");
    expect(writes(fx, "done")).toEqual(["SUCCESS"]);
    expect(writes(fx, "never-seen")).toEqual(["CANCELLED"]);
    const answer = fx.gms.aspect(urn("never-seen"), "dataHubExecutionRequestResult") as { report: string };
    expect(answer.report).toMatch(/No active execution request found\./);
    // The run message arriving after its cancel does not start it.
    await fx.dispatch([runMessage({ id: "never-seen" })]);
    expect((await run(fx, "never-seen"))?.state).toBe("CANCELLED");
    expect(await fx.listTasks()).toHaveLength(1);
  });

  it("honours a KILL signal in DataHub for running and waiting runs, on the reconciler's pass", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    const onEvent = createTaskStateChangeHandler(fx.deps);
    // Two deliveries: records of one batch are handled concurrently, in no set order.
    await fx.dispatch([runMessage({ id: "runs" })]);
    await fx.dispatch([runMessage({ id: "waits" })]);
    await onEvent(await fx.runningEvent(runId("runs")));
    fx.gms.putKillSignal(urn("runs"));
    fx.gms.putKillSignal(urn("waits"));
    const report = await reconcilePools(fx.deps);
    expect(report.stops).toEqual([{ runId: runId("runs"), by: "cancel" }]);
    expect((await run(fx, "waits"))?.state).toBe("CANCELLED");
    expect((await fx.listTasks())[0]?.lastStatus).toBe("STOPPED");
    await reconcilePools(fx.deps); // the STOPPED event was lost: the reconciler finds the stop
    expect((await run(fx, "runs"))?.state).toBe("CANCELLED");
    expect(writes(fx, "runs")).toEqual(["RUNNING", "CANCELLED"]);
    expect(writes(fx, "waits")).toEqual(["CANCELLED"]);
  });

  it("stops a task that RunTask was still creating when the cancel came", async () => {
    const fx = await createFixture();
    const body = runMessage({ id: "racing" });
    // The cancel lands between the launch intent and RunTask's answer.
    const launcher = fx.launcherWith({
      runTask: async (r) => {
        await fx.dispatch([cancelMessage("racing")]);
        return fx.deps.launcher.runTask(r);
      },
    });
    await createDispatchHandler({ ...fx.deps, launcher })({ Records: [sqsRecord(body, "m")] }, {} as never);
    const [task] = await fx.listTasks();
    expect(task?.lastStatus).toBe("STOPPED");
    expect(task?.stoppedReason).toMatch(/^dhx: cancel/);
    await createTaskStateChangeHandler(fx.deps)(
      await fx.stoppedEvent(runId("racing"), { containers: [{ exitCode: 4 }] }),
    );
    expect((await run(fx, "racing"))?.state).toBe("CANCELLED");
  });
});

describe("timeouts", () => {
  it("stops a run past its timeout and reports TIMEOUT", async () => {
    let now = 1_764_300_000_000;
    const fx = await createFixture({ clock: () => now });
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await fx.dispatch([runMessage({ id: "slow", extraEnv: { EXECUTOR_TASK_TIMEOUT_SECONDS: "600" } })]);
    await onEvent(await fx.runningEvent(runId("slow")));
    now += 599_000;
    expect((await reconcilePools(fx.deps)).stops).toEqual([]);
    now += 2_000;
    expect((await reconcilePools(fx.deps)).stops).toEqual([{ runId: runId("slow"), by: "timeout" }]);
    expect((await fx.listTasks())[0]?.stoppedReason).toMatch(/^dhx: timeout: running for more than 600 s/);
    await onEvent(await fx.stoppedEvent(runId("slow"), { containers: [{ exitCode: 4 }] }));
    expect((await run(fx, "slow"))?.state).toBe("TIMEOUT");
    // RUNNING at start and its refresh at minute 9, then TIMEOUT last.
    expect(writes(fx, "slow")).toEqual(["RUNNING", "RUNNING", "TIMEOUT"]);
  });

  it("retries a task stuck before RUNNING past the start timeout, then fails it", async () => {
    let now = 1_764_300_000_000;
    const base = await createFixture({
      clock: () => now,
      pools: { main: { startTimeoutSeconds: 900, maxAttempts: 2 } },
    });
    // ECS keeps the task PENDING (stuck provisioning) until it is stopped.
    const launcher = base.launcherWith({
      describeTasks: async (arns) =>
        (await base.deps.launcher.describeTasks(arns)).map((v) =>
          v.lastStatus === "RUNNING" ? { ...v, lastStatus: "PENDING" } : v,
        ),
    });
    const fx = { ...base, deps: { ...base.deps, launcher } };
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await fx.dispatch([runMessage({ id: "stuck" })]);
    for (const attempt of [1, 2]) {
      now += 901_000;
      const report = await reconcilePools(fx.deps);
      expect(report.stops).toEqual([{ runId: runId("stuck"), by: "start-timeout" }]);
      await onEvent(await fx.stoppedEvent(runId("stuck"), { stopCode: "UserInitiated", containers: [] }));
      if (attempt === 1) {
        expect((await run(fx, "stuck"))?.state).toBe("WAITING");
        now += 60_000;
        await reconcilePools(fx.deps);
        expect((await run(fx, "stuck"))?.launchAttempt).toBe(2);
      }
    }
    const final = await run(fx, "stuck");
    expect(final?.state).toBe("FAILURE");
    expect(final?.outcomeReason).toMatch(/did not reach RUNNING within the start timeout/);
    expect(writes(fx, "stuck")).toEqual(["FAILURE"]);
  });

  it("re-sends RUNNING to DataHub at least every 10 minutes with a changing payload", async () => {
    let now = 1_764_300_000_000;
    const fx = await createFixture({ clock: () => now });
    await fx.dispatch([runMessage({ id: "steady" })]);
    await createTaskStateChangeHandler(fx.deps)(await fx.runningEvent(runId("steady")));
    const reports: string[] = [];
    for (let minute = 1; minute <= 25; minute++) {
      now += 60_000;
      await reconcilePools(fx.deps);
      const result = fx.gms.aspect(urn("steady"), "dataHubExecutionRequestResult") as { report: string };
      if (reports.at(-1) !== result.report) reports.push(result.report);
    }
    const runningWrites = writes(fx, "steady");
    expect(runningWrites.every((s) => s === "RUNNING")).toBe(true);
    // First at start, then at minutes 9 and 18: never 10 minutes without one.
    expect(runningWrites.length).toBe(3);
    expect(new Set(reports).size).toBe(3);
  });
});
