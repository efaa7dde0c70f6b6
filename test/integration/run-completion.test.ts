import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { buildRunReportPut } from "../../functions/adapters/dynamodb/report-requests.js";
import { reconcilePools } from "../../functions/app/reconcile-pools.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import { createFixture, type Fixture, runMessage } from "../support/executor-fixture.js";

const urn = (id: string) => `urn:li:dataHubExecutionRequest:${id}`;
const runId = (id: string) => runIdFor(urn(id));

async function state(fx: Fixture, id: string) {
  return (await fx.deps.runs.getRun(runId(id)))?.state;
}

/** Statuses GMS accepted for the run, in order; and nothing the stub found malformed. */
function gmsWrites(fx: Fixture, id: string): string[] {
  expect(fx.gms.violations).toEqual([]);
  return fx.gms.resultWrites(urn(id));
}

describe("the whole life of a run", () => {
  it("goes RUNNING then SUCCESS in DataHub exactly once, releases its weight and starts the next run", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    const onEvent = createTaskStateChangeHandler(fx.deps);
    // Two deliveries: records of one batch are handled concurrently, in no set order.
    await fx.dispatch([runMessage({ id: "first" })]);
    await fx.dispatch([runMessage({ id: "second" })]);
    expect(await state(fx, "first")).toBe("LAUNCHED");
    expect(await state(fx, "second")).toBe("WAITING");

    expect(await onEvent(await fx.runningEvent(runId("first")))).toEqual({ kind: "running" });
    expect(await state(fx, "first")).toBe("RUNNING");
    expect(gmsWrites(fx, "first")).toEqual(["RUNNING"]);
    const running = fx.gms.aspect(urn("first"), "dataHubExecutionRequestResult") as { startTimeMs?: number };
    expect(running.startTimeMs).toBeGreaterThan(1e11);

    const outcome = await onEvent(await fx.stoppedEvent(runId("first")));
    expect(outcome.kind).toBe("stopped");
    expect(await state(fx, "first")).toBe("SUCCESS");
    expect(gmsWrites(fx, "first")).toEqual(["RUNNING", "SUCCESS"]);
    const result = fx.gms.aspect(urn("first"), "dataHubExecutionRequestResult") as {
      report: string;
      durationMs?: number;
    };
    expect(result.report).toMatch(/ingestion succeeded/);
    expect(result.report).toMatch(/main/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);

    // The release started the waiting run in the same invocation.
    expect(await state(fx, "second")).toBe("LAUNCHED");
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 1_000_000, holders: 1 });
    expect(await fx.deps.outbox.listPending()).toEqual([]);
    const history = (await fx.deps.runs.getRun(runId("first")))?.history.map((h) => h.state);
    expect(history).toEqual(["WAITING", "LAUNCHING", "LAUNCHED", "RUNNING", "SUCCESS"]);
  });

  it("puts the task's report, log tail and structured report into DataHub's terminal status", async () => {
    const fx = await createFixture();
    await fx.dispatch([runMessage({ id: "reported" })]);
    const run = await fx.deps.runs.getRun(runId("reported"));
    await fx.doc.send(
      new PutCommand(
        buildRunReportPut(fx.stack.config.tableName, {
          runId: runId("reported"),
          executionRequestUrn: urn("reported"),
          launchAttempt: run?.launchAttempt ?? 1,
          exitCode: 1,
          outcome: "INGESTION_FAILED",
          message: "datahub ingest failed: 2 failures in the source",
          structuredReport: JSON.stringify({ source: { report: { events_produced: 7, failures: 2 } } }),
          logTail: "line one\nERROR: table ORDERS not found\n",
          startedAtMs: 1,
          finishedAtMs: 2,
        }),
      ),
    );
    await createTaskStateChangeHandler(fx.deps)(
      await fx.stoppedEvent(runId("reported"), { containers: [{ name: "ingestion", exitCode: 1 }] }),
    );
    const result = fx.gms.aspect(urn("reported"), "dataHubExecutionRequestResult") as {
      status: string;
      report: string;
      structuredReport?: { serializedValue: string };
    };
    expect(result.status).toBe("FAILURE");
    expect(result.report).toMatch(/the task exited with code 1: datahub ingest failed: 2 failures in the source/);
    expect(result.report).toMatch(/ERROR: table ORDERS not found/);
    expect(JSON.parse(result.structuredReport?.serializedValue ?? "{}").source.report.events_produced).toBe(7);
    expect(gmsWrites(fx, "reported")).toEqual(["FAILURE"]);
  });
});

describe("duplicate, reordered and missing events", () => {
  async function launched(id: string, fx?: Fixture) {
    const fixture = fx ?? (await createFixture());
    await fixture.dispatch([runMessage({ id })]);
    return fixture;
  }

  it("takes STOPPED before RUNNING, STOPPED twice and RUNNING after STOPPED as one end", async () => {
    const fx = await launched("shuffled");
    const onEvent = createTaskStateChangeHandler(fx.deps);
    const running = await fx.runningEvent(runId("shuffled"));
    const stopped = await fx.stoppedEvent(runId("shuffled"));
    await onEvent(stopped);
    await onEvent(stopped);
    expect(await onEvent(running)).toMatchObject({ kind: "ignored" });
    expect(await state(fx, "shuffled")).toBe("SUCCESS");
    expect(gmsWrites(fx, "shuffled")).toEqual(["SUCCESS"]);
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
  });

  it("ignores events of an earlier attempt and of tasks that are not ours", async () => {
    const fx = await launched("stale");
    const onEvent = createTaskStateChangeHandler(fx.deps);
    const event = await fx.runningEvent(runId("stale"));
    expect(
      await onEvent({ ...event, detail: { ...event.detail, startedBy: `dhx-${runId("stale")}-9` } }),
    ).toMatchObject({
      kind: "ignored",
    });
    expect(await onEvent({ ...event, detail: { ...event.detail, startedBy: "ecs-svc/123" } })).toEqual({
      kind: "ignored",
      why: "not a task of this executor",
    });
    expect(await state(fx, "stale")).toBe("LAUNCHED");
  });

  it("finishes a run whose STOPPED event never came within one reconcile pass", async () => {
    const fx = await launched("lost");
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await onEvent(await fx.runningEvent(runId("lost")));
    await fx.stoppedEvent(runId("lost")); // stops the task in ECS; the event is dropped
    const report = await reconcilePools(fx.deps);
    expect(report.finalized).toEqual([{ runId: runId("lost"), how: "stopped (event lost)" }]);
    expect(await state(fx, "lost")).toBe("SUCCESS");
    expect(gmsWrites(fx, "lost")).toEqual(["RUNNING", "SUCCESS"]);
    // A late event changes nothing.
    await onEvent(await fx.stoppedEvent(runId("lost")));
    expect(gmsWrites(fx, "lost")).toEqual(["RUNNING", "SUCCESS"]);
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
  });

  it("aborts a run whose task ECS no longer knows", async () => {
    const fx = await launched("vanished");
    const run = await fx.deps.runs.getRun(runId("vanished"));
    const missing = async () => [{ taskArn: run?.taskArn ?? "", lastStatus: "MISSING", containers: [] }];
    const gone = { ...fx.deps, launcher: fx.launcherWith({ describeTasks: missing }) };
    await reconcilePools(gone);
    expect(await state(fx, "vanished")).toBe("ABORTED");
    expect(gmsWrites(fx, "vanished")).toEqual(["ABORTED"]);
    expect((await fx.deps.runs.getRun(runId("vanished")))?.outcomeReason).toMatch(/task is gone/);
  });
});

describe("how a stopped task ends", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "out of memory with exit code 0",
      {
        containers: [
          { name: "ingestion", exitCode: 0, reason: "OutOfMemoryError: Container killed due to memory usage" },
        ],
      },
      "FAILURE",
      /^out of memory: .*4194304 KiB \(Fargate 0.5 vCPU \/ 4096 MiB\)/,
    ],
    [
      "out of memory with exit code 137",
      { containers: [{ name: "ingestion", exitCode: 137 }] },
      "FAILURE",
      /^out of memory/,
    ],
    ["another exit code", { containers: [{ name: "ingestion", exitCode: 2 }] }, "FAILURE", /exited with code 2/],
  ];
  it.each(cases)("%s → %s", async (_name, detail, status, reason) => {
    const fx = await createFixture();
    await fx.dispatch([runMessage({ id: "ends" })]);
    await createTaskStateChangeHandler(fx.deps)(await fx.stoppedEvent(runId("ends"), detail));
    const run = await fx.deps.runs.getRun(runId("ends"));
    expect(run?.state).toBe(status);
    expect(run?.outcomeReason).toMatch(reason);
    expect(gmsWrites(fx, "ends")).toEqual([status]);
    const result = fx.gms.aspect(urn("ends"), "dataHubExecutionRequestResult") as { report: string };
    expect(result.report).toMatch(new RegExp(reason.source.replace(/^\^/, "")));
  });

  it("retries TaskFailedToStart with no containers, then fails with AWS's reason", async () => {
    let now = 1_764_300_000_000;
    const fx = await createFixture({ clock: () => now });
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await fx.dispatch([runMessage({ id: "flaky" })]);
    const failedToStart = {
      stopCode: "TaskFailedToStart",
      stoppedReason:
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed",
      containers: [],
    };
    await onEvent(await fx.stoppedEvent(runId("flaky"), failedToStart));
    let run = await fx.deps.runs.getRun(runId("flaky"));
    expect(run?.state).toBe("WAITING");
    expect(run?.infraFailures).toBe(1);
    expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
    expect(gmsWrites(fx, "flaky")).toEqual([]);

    now += 60_000; // past the backoff: the reconciler's scheduler starts attempt 2
    await reconcilePools(fx.deps);
    run = await fx.deps.runs.getRun(runId("flaky"));
    expect(run?.state).toBe("LAUNCHED");
    expect(run?.launchAttempt).toBe(2);

    await onEvent(await fx.stoppedEvent(runId("flaky"), failedToStart));
    run = await fx.deps.runs.getRun(runId("flaky"));
    expect(run?.state).toBe("FAILURE");
    expect(run?.outcomeReason).toMatch(
      /^infrastructure failure after 2 attempts: .*ResourceInitializationError: unable to pull secrets/,
    );
    expect(gmsWrites(fx, "flaky")).toEqual(["FAILURE"]);
    const result = fx.gms.aspect(urn("flaky"), "dataHubExecutionRequestResult") as { report: string };
    expect(result.report).toMatch(/Attempts: 2|attempts: 2/i);
  });
});
