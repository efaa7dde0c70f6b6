import { randomUUID } from "node:crypto";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GmsClient } from "../../functions/adapters/gms/gms-client.js";
import { GmsRejectedError, GmsUnavailableError } from "../../functions/adapters/gms/gms-errors.js";
import { createGmsTokenProvider } from "../../functions/adapters/gms/gms-token-provider.js";
import { SecretsManagerSecretReader } from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";
import { buildExecutionResult, type ExecutionResultInput } from "../../functions/core/execution-result.js";
import { parseGmsUrl } from "../../functions/core/gms-url.js";
import { type StubGms, startStubGms } from "../support/stub-gms.js";

const URN = "urn:li:dataHubExecutionRequest:3f1c2e7a-1b1d-4c7b-9a51-1c2d3e4f5a6b";
const TOKEN = "gms-token-canary-41c9";
const NOW_MS = 1_764_300_213_000;

const result = (status: ExecutionResultInput["status"]) =>
  buildExecutionResult({
    status,
    startTimeMs: 1_764_300_030_000,
    ...(status === "RUNNING" ? {} : { durationMs: 183_000 }),
    summary: {
      reason: status === "RUNNING" ? "running" : "the ingestion succeeded",
      attempts: 1,
      pool: "main",
      capacityClass: "INGESTION",
      weightMicro: 250_000,
      fargate: { cpu: 1024, memoryMiB: 6144 },
      timings: { admittedAtMs: 1_764_300_000_000, startedAtMs: 1_764_300_030_000 },
    },
    logTail: "done\n",
    ...(status === "SUCCESS" ? { structuredReport: '{"source":{"report":{"events_produced":3}}}' } : {}),
  });

let gms: StubGms;
let secrets: SecretsManagerClient;
let secretArn: string;
let secretReads: number;

async function clientWith(options: { timeoutMs?: number; gmsUrl?: string } = {}) {
  const reader = new SecretsManagerSecretReader(secrets, "");
  const counting = {
    read: (id: string) => {
      secretReads++;
      return reader.read(id);
    },
  };
  return new GmsClient({
    gmsUrl: options.gmsUrl ?? parseGmsUrl(gms.url),
    token: createGmsTokenProvider({ reader: counting, secretArn }),
    now: () => NOW_MS,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

beforeEach(async () => {
  gms = await startStubGms();
  gms.requireToken(TOKEN);
  secrets = new SecretsManagerClient({});
  const created = await secrets.send(
    new CreateSecretCommand({
      Name: `dhx-test/gms-token-${randomUUID()}`,
      SecretString: JSON.stringify({ token: TOKEN }),
    }),
  );
  secretArn = created.ARN ?? "";
  secretReads = 0;
});

afterEach(async () => {
  await gms.close();
});

/** Every error message and every recorded body must be free of the token (headers carry it, nothing else). */
function expectTokenOnlyInAuthorization(errors: unknown[] = []) {
  for (const request of gms.requests) expect(JSON.stringify(request.body ?? null)).not.toContain(TOKEN);
  for (const error of errors) expect(String((error as Error).message)).not.toContain(TOKEN);
}

describe("GmsClient against a stub GMS (token from Secrets Manager in moto)", () => {
  it("writes RUNNING then SUCCESS, reads the result back, with valid bodies and the token as a Bearer header", async () => {
    const client = await clientWith();
    await client.writeExecutionResult(URN, result("RUNNING"));
    await client.writeExecutionResult(URN, result("SUCCESS"));

    expect(gms.resultWrites(URN)).toEqual(["RUNNING", "SUCCESS"]);
    expect(gms.violations).toEqual([]);
    const write = gms.requests[1];
    expect(write?.method).toBe("POST");
    expect(write?.path).toBe("/aspects?action=ingestProposal");
    expect(write?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(write?.headers["x-restli-protocol-version"]).toBe("2.0.0");
    expect(write?.body).toMatchObject({
      proposal: {
        entityType: "dataHubExecutionRequest",
        entityUrn: URN,
        changeType: "UPSERT",
        aspectName: "dataHubExecutionRequestResult",
        systemMetadata: { lastObserved: NOW_MS, properties: { appSource: "datahub-serverless-executor" } },
      },
      async: "false",
    });

    const readBack = await client.readExecutionResult(URN);
    expect(readBack).toEqual(result("SUCCESS"));
    expect(readBack?.structuredReport?.type).toBe("RUN_INGEST");
    // One secret read for all three calls: the token is cached.
    expect(secretReads).toBe(1);
    expectTokenOnlyInAuthorization();
  });

  it("a request with no result yet, or no KILL signal, reads as undefined (404)", async () => {
    const client = await clientWith();
    expect(await client.readExecutionResult(URN)).toBeUndefined();
    expect(await client.readKillSignal(URN)).toBeUndefined();
    expect(gms.requests.map((r) => r.status)).toEqual([404, 404]);
    expect(gms.requests[0]?.path).toBe(
      `/aspects/${encodeURIComponent(URN)}?aspect=dataHubExecutionRequestResult&version=0`,
    );
  });

  it("reads a KILL signal with its time", async () => {
    gms.putKillSignal(URN, { createdAtMs: 1_764_300_100_000 });
    const client = await clientWith();
    expect(await client.readKillSignal(URN)).toEqual({ signal: "KILL", createdAtMs: 1_764_300_100_000 });
  });

  it("a 401 after the token was rotated: reads the secret again and retries once", async () => {
    const client = await clientWith();
    await client.writeExecutionResult(URN, result("RUNNING"));
    await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: "rotated-token-77" }));
    gms.requireToken("rotated-token-77");

    await client.writeExecutionResult(URN, result("SUCCESS"));

    expect(gms.requests.map((r) => r.status)).toEqual([200, 401, 200]);
    expect(gms.requests[2]?.headers.authorization).toBe("Bearer rotated-token-77");
    expect(gms.resultWrites(URN)).toEqual(["RUNNING", "SUCCESS"]);
    expect(secretReads).toBe(2);
  });

  it("a token GMS still refuses after a fresh read is a GmsRejectedError after exactly one retry", async () => {
    gms.requireToken("some-other-token");
    const client = await clientWith();
    const error = await client.writeExecutionResult(URN, result("RUNNING")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsRejectedError);
    expect((error as GmsRejectedError).status).toBe(401);
    expect((error as Error).message).toMatch(/the token was refused; check the token/);
    expect(gms.requests.map((r) => r.status)).toEqual([401, 401]);
    expectTokenOnlyInAuthorization([error]);
  });

  it("GMS down (503) is a GmsUnavailableError; the same write succeeds once GMS is back", async () => {
    const client = await clientWith();
    gms.setDown(true);
    const error = await client.writeExecutionResult(URN, result("SUCCESS")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect((error as GmsUnavailableError).kind).toBe("server-error");
    expect((error as GmsUnavailableError).details.status).toBe(503);
    expect(gms.resultWrites(URN)).toEqual([]);

    gms.setDown(false);
    await client.writeExecutionResult(URN, result("SUCCESS"));
    expect(gms.resultWrites(URN)).toEqual(["SUCCESS"]);
  });

  it("429 is transient and keeps Retry-After", async () => {
    const client = await clientWith();
    gms.failNext(1, 429);
    const error = await client.readKillSignal(URN).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect((error as GmsUnavailableError).kind).toBe("rate-limited");
  });

  it("a write after SUCCESS is refused by GMS (422): GmsRejectedError, and the stored SUCCESS stays", async () => {
    const client = await clientWith();
    await client.writeExecutionResult(URN, result("SUCCESS"));
    const error = await client.writeExecutionResult(URN, result("RUNNING")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsRejectedError);
    expect((error as GmsRejectedError).status).toBe(422);
    expect((error as Error).message).toMatch(/status is already SUCCESS/);
    expect(gms.resultWrites(URN)).toEqual(["SUCCESS"]);
    expect(gms.refusals).toHaveLength(1);
    expect((await client.readExecutionResult(URN))?.status).toBe("SUCCESS");
    // Only one request was sent for the refused write: 422 is never retried.
    expect(gms.requests.map((r) => r.status)).toEqual([200, 422, 200]);
  });

  it("writes the executor status: entity, URN, every field, reportedAt in seconds", async () => {
    const client = await clientWith();
    await client.writeExecutorStatus("prod", "main", {
      releaseVersion: "0.1.0",
      uptimeSeconds: 61.5,
      reportedAtSeconds: 1_764_300_213,
      hostname: "reconcile",
    });
    expect(gms.violations).toEqual([]);
    expect(gms.requests[0]?.body).toMatchObject({
      proposal: {
        entityType: "dataHubRemoteExecutor",
        entityUrn: "urn:li:dataHubRemoteExecutor:prod-main",
        aspectName: "dataHubRemoteExecutorStatus",
      },
    });
    expect(gms.aspect("urn:li:dataHubRemoteExecutor:prod-main", "dataHubRemoteExecutorStatus")).toEqual({
      poolName: "main",
      executorReleaseVersion: "0.1.0",
      executorAddress: "",
      executorHostname: "reconcile",
      executorUptime: 61.5,
      executorExpired: false,
      executorStopped: false,
      executorEmbedded: false,
      executorInternal: false,
      logDeliveryEnabled: false,
      reportedAt: 1_764_300_213,
    });
  });

  it("a redirect (a URL that is not GMS) is not followed: GmsRejectedError naming the URL", async () => {
    const client = await clientWith();
    gms.failNext(1, 302);
    const error = await client.writeExecutionResult(URN, result("RUNNING")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsRejectedError);
    expect((error as Error).message).toMatch(/GMS redirected; check the GMS URL/);
    expect(gms.requests.map((r) => r.path)).toEqual(["/aspects?action=ingestProposal"]);
  });

  it("a 200 read that is not the aspect's shape is a GmsRejectedError, not a silent undefined", async () => {
    const client = await clientWith();
    gms.failNext(1, 200);
    const error = await client.readExecutionResult(URN).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsRejectedError);
    expect((error as Error).message).toBe(
      "GMS's answer has no com.linkedin.execution.ExecutionRequestResult value of the expected shape",
    );
  });

  it("no answer within the timeout is a GmsUnavailableError (timeout)", async () => {
    const client = await clientWith({ timeoutMs: 200 });
    gms.hangNext(1);
    const error = await client.writeExecutionResult(URN, result("RUNNING")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect((error as GmsUnavailableError).kind).toBe("timeout");
    expect((error as Error).message).toBe("GMS did not answer the write within 200 ms");
  });

  it("nothing listening is a GmsUnavailableError (network)", async () => {
    const closed = await startStubGms();
    await closed.close();
    const client = await clientWith({ gmsUrl: closed.url });
    const error = await client.writeExecutionResult(URN, result("RUNNING")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect((error as GmsUnavailableError).kind).toBe("network");
    expect((error as Error).message).toMatch(/GMS could not be reached for the write \(ECONNREFUSED\)/);
  });

  it("a missing token secret is transient (the write waits for the fix) and names the secret", async () => {
    secretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dhx-test/nope-AbCdEf";
    const client = await clientWith();
    const error = await client.writeExecutionResult(URN, result("RUNNING")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect((error as GmsUnavailableError).kind).toBe("token-unreadable");
    expect((error as Error).message).toContain("dhx-test/nope-AbCdEf does not exist");
    expect(gms.requests).toEqual([]);
  });
});

describe("the stub GMS checks every body against datahub-protocol.md", () => {
  const post = (body: unknown) =>
    fetch(`${gms.url}/aspects?action=ingestProposal`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        "Content-Type": "application/json",
        "X-RestLi-Protocol-Version": "2.0.0",
      },
      body: JSON.stringify(body),
    });
  const proposal = (aspectName: string, value: unknown, entityType = "dataHubExecutionRequest") => ({
    proposal: {
      entityType,
      entityUrn: entityType === "dataHubExecutionRequest" ? URN : "urn:li:dataHubRemoteExecutor:prod-main",
      changeType: "UPSERT",
      aspectName,
      aspect: { contentType: "application/json", value: typeof value === "string" ? value : JSON.stringify(value) },
      systemMetadata: { lastObserved: NOW_MS },
    },
    async: "false",
  });
  const executorStatus = {
    poolName: "main",
    executorReleaseVersion: "0.1.0",
    executorAddress: "",
    executorHostname: "",
    executorUptime: 1,
    executorExpired: false,
    executorStopped: false,
    executorEmbedded: false,
    executorInternal: false,
    logDeliveryEnabled: false,
    reportedAt: 1_764_300_213,
  };

  it.each([
    [
      "aspect.value as an object",
      () => ({
        ...proposal("x", {}),
        proposal: {
          ...proposal("dataHubExecutionRequestResult", {}).proposal,
          aspect: { contentType: "application/json", value: { status: "SUCCESS" } },
        },
      }),
      /aspect.value must be a JSON string/,
    ],
    ["an unknown status", () => proposal("dataHubExecutionRequestResult", { status: "DONE" }), /status/],
    ["an unknown field", () => proposal("dataHubExecutionRequestResult", { status: "SUCCESS", extra: 1 }), /extra/],
    [
      "durationMs as a string",
      () => proposal("dataHubExecutionRequestResult", { status: "SUCCESS", durationMs: "5" }),
      /durationMs/,
    ],
    [
      "startTimeMs in seconds",
      () => proposal("dataHubExecutionRequestResult", { status: "RUNNING", startTimeMs: 1_764_300_030 }),
      /epoch milliseconds/,
    ],
    [
      "reportedAt in milliseconds",
      () =>
        proposal(
          "dataHubRemoteExecutorStatus",
          { ...executorStatus, reportedAt: 1_764_300_213_000 },
          "dataHubRemoteExecutor",
        ),
      /epoch seconds, not milliseconds/,
    ],
    [
      "a missing executor field",
      () =>
        proposal(
          "dataHubRemoteExecutorStatus",
          { ...executorStatus, logDeliveryEnabled: undefined },
          "dataHubRemoteExecutor",
        ),
      /logDeliveryEnabled/,
    ],
    [
      "the wrong entity type",
      () => proposal("dataHubRemoteExecutorStatus", executorStatus),
      /belongs to dataHubRemoteExecutor/,
    ],
    [
      "changeType CREATE",
      () => ({
        ...proposal("dataHubExecutionRequestResult", { status: "RUNNING" }),
        proposal: {
          ...proposal("dataHubExecutionRequestResult", { status: "RUNNING" }).proposal,
          changeType: "CREATE",
        },
      }),
      /changeType/,
    ],
  ])("refuses %s with 400 and records a violation", async (_name, body, problem) => {
    const answer = await post(body());
    expect(answer.status).toBe(400);
    expect(gms.violations).toHaveLength(1);
    expect(gms.violations[0]?.problem).toMatch(problem);
  });

  it("accepts a well-formed body (the checks are not refusing everything)", async () => {
    const answer = await post(proposal("dataHubRemoteExecutorStatus", executorStatus, "dataHubRemoteExecutor"));
    expect(answer.status).toBe(200);
    expect(gms.violations).toEqual([]);
  });

  it.each(["SUCCESS", "CANCELLED", "ABORTED", "DUPLICATE"])(
    "refuses writes after %s; FAILURE and TIMEOUT stay writable",
    async (terminal) => {
      expect((await post(proposal("dataHubExecutionRequestResult", { status: "FAILURE" }))).status).toBe(200);
      expect((await post(proposal("dataHubExecutionRequestResult", { status: "TIMEOUT" }))).status).toBe(200);
      expect((await post(proposal("dataHubExecutionRequestResult", { status: terminal }))).status).toBe(200);
      expect((await post(proposal("dataHubExecutionRequestResult", { status: "RUNNING" }))).status).toBe(422);
      expect(gms.resultWrites(URN)).toEqual(["FAILURE", "TIMEOUT", terminal]);
    },
  );
});
