import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import { buildClaimMarkerPut, buildMarkSentUpdate } from "../../functions/adapters/dynamodb/intake-markers.js";
import {
  buildCreateExecutionRequestRequest,
  buildPublishPoolRequest,
  buildScrollExecutionRequestsRequest,
} from "../../functions/adapters/gms/gms-intake-requests.js";
import { runIntakePolls } from "../../functions/app/intake-loop.js";
import type { IntakeDeps } from "../../functions/app/intake-ports.js";
import { InvalidIngestionSourceUrnError, submitIngestionSource } from "../../functions/app/submit-ingestion-source.js";
import { parseIntakeMessage } from "../../functions/core/execution-request-message.js";
import {
  buildExecutionRequestQuery,
  planIntake,
  pollsPerMinute,
  type ScannedExecutionRequest,
} from "../../functions/core/intake-plan.js";

const urn = (id: string) => `urn:li:dataHubExecutionRequest:${id}`;
const input = (executorId: string) => ({
  task: "RUN_INGEST",
  args: { recipe: "source:\n  type: file\n", version: "1.7.0.17" },
  executorId,
  source: { type: "SCHEDULED_INGESTION_SOURCE" },
  requestedAt: 1_764_300_000_000,
});

describe("planIntake", () => {
  const served = new Set(["main", "large"]);

  it("turns an open request of a served pool into a run message dispatch accepts, input unchanged", () => {
    const plan = planIntake([{ urn: urn("a"), input: input("main") }], served);
    expect(plan.skipped).toEqual([]);
    expect(plan.actions).toEqual([
      {
        kind: "run",
        executionRequestUrn: urn("a"),
        poolId: "main",
        body: JSON.stringify({ version: 1, kind: "run", executionRequestUrn: urn("a"), input: input("main") }),
      },
    ]);
    const parsed = parseIntakeMessage(plan.actions[0]?.body ?? "");
    expect(parsed).toMatchObject({ kind: "run", executionRequestUrn: urn("a"), input: { executorId: "main" } });
  });

  it("a KILL on a request without a final result is a cancel, never a run", () => {
    const requests: ScannedExecutionRequest[] = [
      { urn: urn("pending"), input: input("main"), signal: "KILL" },
      { urn: urn("running"), input: input("large"), resultStatus: "RUNNING", signal: "KILL" },
      { urn: urn("done"), input: input("main"), resultStatus: "CANCELLED", signal: "KILL" },
    ];
    const plan = planIntake(requests, served);
    expect(plan.actions.map((a) => [a.kind, a.executionRequestUrn])).toEqual([
      ["cancel", urn("pending")],
      ["cancel", urn("running")],
    ]);
    expect(parseIntakeMessage(plan.actions[0]?.body ?? "")).toEqual({
      version: 1,
      kind: "cancel",
      executionRequestUrn: urn("pending"),
      reason: "Cancel (KILL signal) in DataHub",
    });
    expect(plan.skipped).toEqual([{ executionRequestUrn: urn("done"), reason: "has-result" }]);
  });

  it("leaves other pools, requests with a result and requests without input alone", () => {
    const plan = planIntake(
      [
        { urn: urn("other"), input: input("someone-else"), signal: "KILL" },
        { urn: urn("no-pool"), input: { task: "RUN_INGEST", args: {} } },
        { urn: urn("running"), input: input("main"), resultStatus: "RUNNING" },
        { urn: urn("failed"), input: input("main"), resultStatus: "FAILURE" },
        { urn: urn("bare") },
      ],
      served,
    );
    expect(plan.actions).toEqual([]);
    expect(plan.skipped.map((s) => s.reason)).toEqual([
      "other-pool",
      "other-pool",
      "has-result",
      "has-result",
      "no-input",
    ]);
  });

  it("decides once per URN when scroll pages repeat an entity", () => {
    const request = { urn: urn("twice"), input: input("main") };
    expect(planIntake([request, request], served).actions).toHaveLength(1);
  });
});

describe("the scroll query", () => {
  it("quotes pool ids, sorts them, and bounds requestTimeMs", () => {
    expect(buildExecutionRequestQuery(["main", "etl-2.eu"], 1_764_300_000_000)).toBe(
      'executorId:("etl-2.eu" OR "main") AND requestTimeMs:>=1764300000000',
    );
  });

  it("refuses no pools and a time that is not epoch ms", () => {
    expect(() => buildExecutionRequestQuery([], 1)).toThrow(RangeError);
    expect(() => buildExecutionRequestQuery(["main"], 1.5)).toThrow(RangeError);
  });
});

describe("GMS intake requests (exact output)", () => {
  it("scroll: GET the lower-cased entity path with query, count, the three aspects, sort, skipCache, scrollId", () => {
    const request = buildScrollExecutionRequestsRequest("https://acme.acryl.io/gms", "tok", {
      poolIds: ["main"],
      sinceMs: 1_764_300_000_000,
      count: 100,
      scrollId: "abc==",
    });
    expect(request).toEqual({
      url:
        "https://acme.acryl.io/gms/openapi/v3/entity/datahubexecutionrequest?" +
        "query=executorId%3A%28%22main%22%29+AND+requestTimeMs%3A%3E%3D1764300000000&count=100" +
        "&aspects=dataHubExecutionRequestInput&aspects=dataHubExecutionRequestResult&aspects=dataHubExecutionRequestSignal" +
        "&sortCriteria=requestTimeMs&sortOrder=ASCENDING&skipCache=true&scrollId=abc%3D%3D",
      method: "GET",
      headers: { Authorization: "Bearer tok", Accept: "application/json" },
    });
  });

  it("run now: GraphQL createIngestionExecutionRequest with the source URN as a variable", () => {
    const request = buildCreateExecutionRequestRequest("http://gms:8080", "tok", "urn:li:dataHubIngestionSource:x");
    expect(request.url).toBe("http://gms:8080/api/graphql");
    expect(request.method).toBe("POST");
    expect(JSON.parse(request.body)).toEqual({
      query:
        "mutation createIngestionExecutionRequest($input: CreateIngestionExecutionRequestInput!) { createIngestionExecutionRequest(input: $input) }",
      variables: { input: { ingestionSourceUrn: "urn:li:dataHubIngestionSource:x" } },
    });
  });

  it("pool: an ingestProposal of dataHubRemoteExecutorPoolInfo, READY, without queueUrl", () => {
    const request = buildPublishPoolRequest("http://gms:8080", "tok", {
      poolId: "main",
      createdAtMs: 1_764_300_000_000,
      state: { status: "READY" },
      nowMs: 1_764_300_000_500,
    });
    const proposal = JSON.parse(request.body ?? "").proposal;
    expect(proposal).toMatchObject({
      entityType: "dataHubRemoteExecutorPool",
      entityUrn: "urn:li:dataHubRemoteExecutorPool:main",
      changeType: "UPSERT",
      aspectName: "dataHubRemoteExecutorPoolInfo",
    });
    expect(JSON.parse(proposal.aspect.value)).toEqual({ createdAt: 1_764_300_000_000, state: { status: "READY" } });
  });
});

describe("intake markers (exact output)", () => {
  it("claim: put unless a marker exists that is sent or still within its lease", () => {
    expect(
      buildClaimMarkerPut("t", { executionRequestUrn: urn("a"), kind: "cancel", poolId: "main" }, 5000, 3000),
    ).toEqual({
      TableName: "t",
      Item: {
        pk: `INTAKE#${urn("a")}`,
        sk: "CANCEL",
        executionRequestUrn: urn("a"),
        messageKind: "cancel",
        poolId: "main",
        claimedAtMs: 5000,
      },
      ConditionExpression:
        "attribute_not_exists(pk) OR (attribute_not_exists(sentAtMs) AND claimedAtMs < :staleBefore)",
      ExpressionAttributeValues: { ":staleBefore": 3000 },
    });
    expect(buildMarkSentUpdate("t", { executionRequestUrn: urn("a"), kind: "run" }, 7000)).toEqual({
      TableName: "t",
      Key: { pk: `INTAKE#${urn("a")}`, sk: "RUN" },
      UpdateExpression: "SET sentAtMs = :now",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":now": 7000 },
    });
  });
});

describe("polls per minute", () => {
  it.each([
    [60, 1],
    [30, 2],
    [20, 3],
    [15, 4],
    [25, 3],
    [5, 12],
    [90, 1],
  ])("every %i s: %i polls", (interval, polls) => {
    expect(pollsPerMinute(interval)).toBe(polls);
  });

  it("refuses a non-integer or zero interval", () => {
    expect(() => pollsPerMinute(0)).toThrow(RangeError);
    expect(() => pollsPerMinute(7.5)).toThrow(RangeError);
  });
});

/** Ports of our own (not AWS): a clock that sleeping advances, and a feed that counts scans. */
function loopDeps(options: { scanFails?: boolean } = {}) {
  let nowMs = 1_000_000;
  const scans: number[] = [];
  const deps: IntakeDeps = {
    pools: { list: async () => [{ id: "main", isDefault: true } as never] },
    feed: {
      scan: async () => {
        scans.push(nowMs);
        if (options.scanFails) throw new Error("GMS down");
        return { requests: [] };
      },
    },
    markers: { claim: async () => true, markSent: async () => {} },
    queue: { send: async () => {} },
    settings: { lookbackMs: 60_000, pageSize: 10, maxPages: 1, claimLeaseMs: 1000 },
    now: () => nowMs,
    logger: new Logger({ serviceName: "test", logLevel: "SILENT" }),
  };
  const sleep = async (ms: number) => {
    nowMs += ms;
  };
  return { deps, scans, sleep, start: nowMs, elapsed: () => nowMs - 1_000_000 };
}

describe("runIntakePolls", () => {
  it("polls at once, then every interval, within the minute", async () => {
    const t = loopDeps();
    const report = await runIntakePolls(t.deps, {
      intervalSeconds: 15,
      remainingMs: () => 55_000 - t.elapsed(),
      marginMs: 5_000,
      sleep: t.sleep,
    });
    expect(report.polls).toHaveLength(4);
    expect(t.scans.map((s) => s - t.start)).toEqual([0, 15_000, 30_000, 45_000]);
    expect(report.skippedForTime).toBe(0);
  });

  it("does not start a poll with less than the margin left", async () => {
    const t = loopDeps();
    const report = await runIntakePolls(t.deps, {
      intervalSeconds: 15,
      remainingMs: () => 40_000 - t.elapsed(),
      marginMs: 5_000,
      sleep: t.sleep,
    });
    expect(t.scans.map((s) => s - t.start)).toEqual([0, 15_000, 30_000]);
    expect(report.skippedForTime).toBe(1);
  });

  it("a failing poll is reported and the next one still runs", async () => {
    const t = loopDeps({ scanFails: true });
    const report = await runIntakePolls(t.deps, {
      intervalSeconds: 30,
      remainingMs: () => 55_000 - t.elapsed(),
      marginMs: 5_000,
      sleep: t.sleep,
    });
    expect(report.failures).toEqual(["Error: GMS down", "Error: GMS down"]);
  });
});

describe("submitIngestionSource", () => {
  it("refuses what is not an ingestion source URN before calling GMS", async () => {
    let called = false;
    const runner = {
      createExecutionRequest: async () => {
        called = true;
        return urn("x");
      },
    };
    await expect(submitIngestionSource(runner, "urn:li:dataset:x")).rejects.toBeInstanceOf(
      InvalidIngestionSourceUrnError,
    );
    expect(called).toBe(false);
    expect(await submitIngestionSource(runner, "urn:li:dataHubIngestionSource:x")).toEqual({
      executionRequestUrn: urn("x"),
    });
  });
});
