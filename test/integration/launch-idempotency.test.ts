import type { SQSBatchResponse } from "aws-lambda";
import { describe, expect, it } from "vitest";
import type { TaskLauncher } from "../../functions/app/ports.js";
import { reconcilePools, STALE_LAUNCH_MS } from "../../functions/app/reconcile-pools.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createDispatchHandler } from "../../functions/handlers/dispatch-request.js";
import { createFixture, type Fixture, InjectedCrash, runMessage, sqsRecord } from "../support/executor-fixture.js";

/** Wraps the real ECS launcher so a "crash" can be injected before or after the real RunTask, once. */
function crashingLauncher(real: TaskLauncher, when: "before-run-task" | "after-run-task"): TaskLauncher {
  let crashed = false;
  return {
    findTask: (token) => real.findTask(token),
    stopTask: (taskArn, reason) => real.stopTask(taskArn, reason),
    describeTasks: (taskArns) => real.describeTasks(taskArns),
    runTask: async (run) => {
      if (crashed) return real.runTask(run);
      crashed = true;
      if (when === "before-run-task") throw new InjectedCrash("crash between launch intent and RunTask");
      await real.runTask(run);
      throw new InjectedCrash("crash between RunTask and recording the launch");
    },
  };
}

async function deliver(
  fx: Fixture,
  launcher: TaskLauncher,
  body: string,
  messageId: string,
): Promise<SQSBatchResponse> {
  const handler = createDispatchHandler({ ...fx.deps, launcher });
  return handler({ Records: [sqsRecord(body, messageId)] }, {} as never);
}

const URN = "urn:li:dataHubExecutionRequest:idempotent-1";

describe("exactly one launch per run", () => {
  it("yields one ECS task when SQS delivers the same message three times", async () => {
    const fx = await createFixture();
    const body = runMessage({ id: "idempotent-1" });
    for (let i = 0; i < 3; i++) {
      const response = await fx.dispatch([body], ["same-message"]);
      expect(response.batchItemFailures).toEqual([]);
    }
    const tasks = await fx.listTasks();
    expect(tasks).toHaveLength(1);
    const run = await fx.deps.runs.getRun(runIdFor(URN));
    expect(run?.state).toBe("LAUNCHED");
    expect(run?.launchAttempt).toBe(1);
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 250_000, holders: 1 });
  });

  it.each(["before-run-task", "after-run-task"] as const)(
    "recovers from a crash %s with exactly one task when the message is delivered again",
    async (when) => {
      const fx = await createFixture();
      const body = runMessage({ id: "idempotent-1" });
      const first = await deliver(fx, crashingLauncher(fx.deps.launcher, when), body, "m-1");
      // The crash fails the record, so SQS would deliver it again.
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
      const stranded = await fx.deps.runs.getRun(runIdFor(URN));
      expect(stranded?.state).toBe("LAUNCHING");
      expect(await fx.listTasks()).toHaveLength(when === "before-run-task" ? 0 : 1);

      const retry = await deliver(fx, fx.deps.launcher, body, "m-1");
      expect(retry.batchItemFailures).toEqual([]);
      const tasks = await fx.listTasks();
      expect(tasks).toHaveLength(1);
      const run = await fx.deps.runs.getRun(runIdFor(URN));
      expect(run?.state).toBe("LAUNCHED");
      expect(run?.taskArn).toBe(tasks[0]?.taskArn);
      expect(run?.launchAttempt).toBe(1);
      expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 250_000, holders: 1 });
    },
  );

  it("lets the reconciler finish a launch whose launcher died while starting another message's run", async () => {
    let now = 1_764_300_000_000;
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } }, clock: () => now });
    await fx.dispatch([runMessage({ id: "first" })]);
    await fx.dispatch([runMessage({ id: "second" })]);
    const second = runIdFor("urn:li:dataHubExecutionRequest:second");
    expect((await fx.deps.runs.getRun(second))?.state).toBe("WAITING");

    // The release of "first" starts "second", and the process dies right after RunTask.
    const crashing = { ...fx.deps, launcher: crashingLauncher(fx.deps.launcher, "after-run-task") };
    await expect(fx.finishTask(runIdFor("urn:li:dataHubExecutionRequest:first"), crashing)).rejects.toThrow(
      InjectedCrash,
    );
    expect((await fx.deps.runs.getRun(second))?.state).toBe("LAUNCHING");

    // A fresh intent is left alone; a stale one is finished, finding the task RunTask made.
    expect((await reconcilePools(fx.deps)).resumed).toEqual([]);
    now += STALE_LAUNCH_MS;
    const report = await reconcilePools(fx.deps);
    expect(report.resumed.map((r) => r.kind)).toEqual(["launched"]);
    const tasks = (await fx.listTasks()).filter((t) => t.startedBy === `dhx-${second}-1`);
    expect(tasks).toHaveLength(1);
    expect((await fx.deps.runs.getRun(second))?.taskArn).toBe(tasks[0]?.taskArn);
  });
});
