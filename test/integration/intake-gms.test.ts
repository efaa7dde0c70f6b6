import { Logger } from "@aws-lambda-powertools/logger";
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { GmsRejectedError } from "../../functions/adapters/gms/gms-errors.js";
import { pollIntake } from "../../functions/app/intake-poll.js";
import { publishPools } from "../../functions/app/intake-publish-pools.js";
import { submitIngestionSource } from "../../functions/app/submit-ingestion-source.js";
import { createIntakeDeps } from "../../functions/config/intake-config.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createIntakeHandler } from "../../functions/handlers/intake.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import { createFixture, type Fixture, SAMPLE_RECIPE } from "../support/executor-fixture.js";

const SOURCE_URN = "urn:li:dataHubIngestionSource:snowflake-prod";

function intakeOf(fx: Fixture, clock?: () => number) {
  const gms = fx.stack.config.gms;
  if (gms === undefined) throw new Error("the fixture has no GMS");
  const deps = createIntakeDeps(
    {
      stage: "test",
      tableName: fx.stack.config.tableName,
      intakeQueueUrl: fx.stack.intakeQueueUrl,
      gms,
      settings: { lookbackMs: 60 * 60 * 1000, pageSize: 2, maxPages: 10, claimLeaseMs: 120_000 },
    },
    fx.clients,
    new Logger({ serviceName: "test-intake" }),
  );
  return clock === undefined ? deps : { ...deps, now: clock };
}

/** A request as GMS creates it when "Run" is clicked for a source routed to `executorId`. */
function requestInStub(fx: Fixture, executorId = "main") {
  return fx.gms.createExecutionRequest({
    executorId,
    args: { recipe: SAMPLE_RECIPE, version: "1.7.0.17", debug_mode: "false" },
    source: { type: "MANUAL_INGESTION_SOURCE", ingestionSource: SOURCE_URN },
  });
}

/** Everything on the intake queue, removed from it. */
async function drainIntakeQueue(fx: Fixture): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await fx.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: fx.stack.intakeQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ""));
    await fx.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: fx.stack.intakeQueueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

const lambdaContext = { getRemainingTimeInMillis: () => 50_000 };

describe("intake from GMS", () => {
  it("enqueues a request created in GMS once; it runs and its terminal status is written back", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    const urn = requestInStub(fx);
    const handler = createIntakeHandler(intake, { pollIntervalSeconds: 60, publishPools: false });

    const first = await handler({}, lambdaContext);
    expect(first.polls.map((p) => p.enqueued)).toEqual([[{ executionRequestUrn: urn, kind: "run" }]]);
    const bodies = await drainIntakeQueue(fx);
    expect(bodies).toHaveLength(1);
    const message = JSON.parse(bodies[0] ?? "");
    expect(message).toEqual({
      version: 1,
      kind: "run",
      executionRequestUrn: urn,
      input: fx.gms.aspect(urn, "dataHubExecutionRequestInput"),
    });

    // Dispatch through the real handler, against moto.
    await fx.dispatch(bodies);
    const runId = runIdFor(urn);
    expect((await fx.deps.runs.getRun(runId))?.state).toBe("LAUNCHED");

    // Polls before DataHub hears RUNNING find the marker; polls after find the result.
    expect((await pollIntake(intake)).alreadyClaimed).toBe(1);
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await onEvent(await fx.runningEvent(runId));
    expect((await pollIntake(intake)).skipped).toEqual({ "has-result": 1 });
    await onEvent(await fx.stoppedEvent(runId));

    expect(fx.gms.resultWrites(urn)).toEqual(["RUNNING", "SUCCESS"]);
    expect(fx.gms.violations).toEqual([]);
    expect(await drainIntakeQueue(fx)).toEqual([]);
  });

  it("overlapping and repeated polls enqueue each request exactly once, across scroll pages", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    // pageSize 2: five requests take three pages.
    const urns = [1, 2, 3, 4, 5].map(() => requestInStub(fx));

    const overlapping = await Promise.all([1, 2, 3, 4].map(() => pollIntake(intake)));
    const repeated = [await pollIntake(intake), await pollIntake(intake)];
    const reports = [...overlapping, ...repeated];

    expect(reports.every((r) => r.errors.length === 0 && r.pages === 3 && r.scanned === 5)).toBe(true);
    const enqueued = reports.flatMap((r) => r.enqueued.map((e) => e.executionRequestUrn));
    expect(enqueued.sort()).toEqual([...urns].sort());
    expect(reports.reduce((n, r) => n + r.alreadyClaimed, 0)).toBe(reports.length * 5 - 5);
    const bodies = await drainIntakeQueue(fx);
    expect(bodies.map((b) => JSON.parse(b).executionRequestUrn).sort()).toEqual([...urns].sort());
  });

  it("a KILL signal in GMS becomes a cancel message that stops the run; it is CANCELLED in DataHub", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    const urn = requestInStub(fx);
    await pollIntake(intake);
    await fx.dispatch(await drainIntakeQueue(fx));
    const runId = runIdFor(urn);
    const onEvent = createTaskStateChangeHandler(fx.deps);
    await onEvent(await fx.runningEvent(runId));

    fx.gms.putKillSignal(urn);
    const report = await pollIntake(intake);
    expect(report.enqueued).toEqual([{ executionRequestUrn: urn, kind: "cancel" }]);
    const bodies = await drainIntakeQueue(fx);
    expect(bodies.map((b) => JSON.parse(b))).toEqual([
      { version: 1, kind: "cancel", executionRequestUrn: urn, reason: "Cancel (KILL signal) in DataHub" },
    ]);
    await fx.dispatch(bodies);
    const stopping = await fx.deps.runs.getRun(runId);
    expect(stopping?.stopRequest?.by).toBe("cancel");
    const [task] = await fx.listTasks();
    expect(task?.lastStatus).toBe("STOPPED");
    expect(task?.stoppedReason).toMatch(/^dhx: cancel: Cancel \(KILL signal\) in DataHub/);

    await onEvent(await fx.stoppedEvent(runId));
    expect(fx.gms.resultWrites(urn)).toEqual(["RUNNING", "CANCELLED"]);
    // The signal stays in GMS; the cancel is not sent again.
    expect((await pollIntake(intake)).enqueued).toEqual([]);
    expect(await drainIntakeQueue(fx)).toEqual([]);
    expect(fx.gms.violations).toEqual([]);
  });

  it("a KILL before the request was picked up is sent as a cancel only: the run never starts", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    const urn = requestInStub(fx);
    fx.gms.putKillSignal(urn);
    expect((await pollIntake(intake)).enqueued).toEqual([{ executionRequestUrn: urn, kind: "cancel" }]);
    await fx.dispatch(await drainIntakeQueue(fx));
    expect(fx.gms.resultWrites(urn)).toEqual(["CANCELLED"]);
    expect(await fx.listTasks()).toEqual([]);
  });

  it("leaves a request for a pool this stage does not serve alone: not asked for, not enqueued, not marked", async () => {
    const fx = await createFixture({ pools: { main: {}, large: {} } });
    const intake = intakeOf(fx);
    const elsewhere = requestInStub(fx, "someone-elses-pool");
    fx.gms.putKillSignal(elsewhere);
    const ours = requestInStub(fx, "large");

    const report = await pollIntake(intake);
    expect(report.enqueued).toEqual([{ executionRequestUrn: ours, kind: "run" }]);
    const scroll = fx.gms.requests.find((r) => r.path.startsWith("/openapi/v3/entity/datahubexecutionrequest"));
    const query = new URL(scroll?.path ?? "", "http://x").searchParams.get("query");
    expect(query).toMatch(/^executorId:\("large" OR "main"\) AND requestTimeMs:>=\d+$/);
    expect((await drainIntakeQueue(fx)).map((b) => JSON.parse(b).executionRequestUrn)).toEqual([ours]);
    const markers = (await fx.scanTable()).filter((item) => String(item.pk).startsWith("INTAKE#"));
    expect(markers.map((m) => m.pk)).toEqual([`INTAKE#${ours}`]);
    expect(fx.gms.aspect(elsewhere, "dataHubExecutionRequestResult")).toBeUndefined();
  });

  it("a claim whose claimer died before sending is taken again after the lease; a live one is not", async () => {
    let nowMs = Date.now();
    const fx = await createFixture();
    const intake = intakeOf(fx, () => nowMs);
    const urn = requestInStub(fx);
    // Another poll claimed it and crashed before SendMessage.
    expect(await intake.markers.claim({ executionRequestUrn: urn, kind: "run", poolId: "main" }, nowMs, 0)).toBe(true);
    expect((await pollIntake(intake)).alreadyClaimed).toBe(1);
    expect(await drainIntakeQueue(fx)).toEqual([]);
    nowMs += 120_001;
    expect((await pollIntake(intake)).enqueued).toHaveLength(1);
    expect(await drainIntakeQueue(fx)).toHaveLength(1);
    nowMs += 600_000;
    expect((await pollIntake(intake)).enqueued).toEqual([]);
  });

  it("GMS unreachable: the poll fails and names it, nothing is claimed, the next poll enqueues", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    const urn = requestInStub(fx);
    fx.gms.setDown(true);
    const handler = createIntakeHandler(intake, { pollIntervalSeconds: 60, publishPools: false });
    // A minute without GMS is a Lambda error, for the intake-errors alarm.
    await expect(handler({}, lambdaContext)).rejects.toThrow(
      /^all 1 polls of this invocation failed; the first: GmsUnavailableError: GMS answered 503/,
    );
    fx.gms.setDown(false);
    expect((await pollIntake(intake)).enqueued).toEqual([{ executionRequestUrn: urn, kind: "run" }]);
  });
});

describe("run this ingestion source now", () => {
  it("creates the execution request through GraphQL; the intake picks it up and dispatch admits it", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    fx.gms.putIngestionSource(SOURCE_URN, {
      executorId: "main",
      recipe: { source: { type: "snowflake", config: { password: "${SNOWFLAKE_PASSWORD}" } } },
    });
    const { executionRequestUrn } = await submitIngestionSource(intake.gms, SOURCE_URN);
    expect(executionRequestUrn).toMatch(/^urn:li:dataHubExecutionRequest:[0-9a-f-]{36}$/);
    const graphql = fx.gms.requests.find((r) => r.path === "/api/graphql");
    expect(graphql?.body).toEqual({
      query:
        "mutation createIngestionExecutionRequest($input: CreateIngestionExecutionRequestInput!) { createIngestionExecutionRequest(input: $input) }",
      variables: { input: { ingestionSourceUrn: SOURCE_URN } },
    });

    expect((await pollIntake(intake)).enqueued).toEqual([{ executionRequestUrn, kind: "run" }]);
    const bodies = await drainIntakeQueue(fx);
    expect(JSON.parse(JSON.parse(bodies[0] ?? "").input.args.recipe).run_id).toBe(executionRequestUrn);
    await fx.dispatch(bodies);
    expect((await fx.deps.runs.getRun(runIdFor(executionRequestUrn)))?.state).toBe("LAUNCHED");
    expect(fx.gms.violations).toEqual([]);
  });

  it("an unknown source is refused with GMS's words", async () => {
    const fx = await createFixture();
    const intake = intakeOf(fx);
    const refused = submitIngestionSource(intake.gms, "urn:li:dataHubIngestionSource:nope");
    await expect(refused).rejects.toBeInstanceOf(GmsRejectedError);
    await expect(refused).rejects.toThrow(
      /Failed to find ingestion source with urn urn:li:dataHubIngestionSource:nope/,
    );
  });
});

describe("publishing pools to GMS", () => {
  it("writes each pool as dataHubRemoteExecutorPool with state READY", async () => {
    const fx = await createFixture({ pools: { main: {}, large: {} } });
    const intake = intakeOf(fx);
    const report = await publishPools({ ...intake, publisher: intake.gms });
    expect(report).toEqual({ kind: "published", pools: ["large", "main"], failed: [] });
    const info = fx.gms.aspect("urn:li:dataHubRemoteExecutorPool:main", "dataHubRemoteExecutorPoolInfo");
    expect(info).toEqual({ createdAt: expect.any(Number), state: { status: "READY" } });
    expect(fx.gms.violations).toEqual([]);
  });

  it("says clearly, once, when the GMS has no such entity", async () => {
    const fx = await createFixture({ pools: { main: {}, large: {} } });
    fx.gms.setExecutorPoolsSupported(false);
    const intake = intakeOf(fx);
    const report = await publishPools({ ...intake, publisher: intake.gms });
    expect(report.kind).toBe("unsupported");
    expect(report.kind === "unsupported" && report.message).toMatch(
      /GMS does not know dataHubRemoteExecutorPool\/dataHubRemoteExecutorPoolInfo \(HTTP 500: .*Failed to find entity/,
    );
    const writes = fx.gms.requests.filter((r) => r.path === "/aspects?action=ingestProposal");
    expect(writes).toHaveLength(1);
  });
});
