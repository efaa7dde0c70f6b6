import { describe, expect, it } from "vitest";
import {
  buildExecutorStatusValue,
  buildGetAspectRequest,
  buildIngestProposalRequest,
  remoteExecutorUrn,
} from "../../functions/adapters/gms/gms-requests.js";

const URN = "urn:li:dataHubExecutionRequest:3f1c2e7a-1b1d-4c7b-9a51-1c2d3e4f5a6b";

describe("buildIngestProposalRequest", () => {
  it("is the Rest.li ingestProposal UPSERT of datahub-protocol.md §3, with the value as a JSON string", () => {
    const request = buildIngestProposalRequest("https://acme.acryl.io/gms", "tok-123", {
      entityType: "dataHubExecutionRequest",
      entityUrn: URN,
      aspectName: "dataHubExecutionRequestResult",
      value: { status: "SUCCESS", report: 'say "hi"', startTimeMs: 1718000000000, durationMs: 183000 },
      systemMetadata: { lastObserved: 1718000183000 },
    });
    expect(request).toEqual({
      url: "https://acme.acryl.io/gms/aspects?action=ingestProposal",
      method: "POST",
      headers: {
        Authorization: "Bearer tok-123",
        "Content-Type": "application/json",
        "X-RestLi-Protocol-Version": "2.0.0",
      },
      body:
        '{"proposal":{"entityType":"dataHubExecutionRequest",' +
        `"entityUrn":"${URN}",` +
        '"changeType":"UPSERT","aspectName":"dataHubExecutionRequestResult",' +
        '"aspect":{"contentType":"application/json",' +
        '"value":"{\\"status\\":\\"SUCCESS\\",\\"report\\":\\"say \\\\\\"hi\\\\\\"\\",\\"startTimeMs\\":1718000000000,\\"durationMs\\":183000}"},' +
        '"systemMetadata":{"lastObserved":1718000183000,"properties":{"appSource":"datahub-serverless-executor"}}},' +
        '"async":"false"}',
    });
    // Decoding twice gives the value back: the aspect value is a JSON string inside JSON.
    const body = JSON.parse(request.body ?? "");
    expect(JSON.parse(body.proposal.aspect.value)).toEqual({
      status: "SUCCESS",
      report: 'say "hi"',
      startTimeMs: 1718000000000,
      durationMs: 183000,
    });
  });
});

describe("buildGetAspectRequest", () => {
  it("reads version 0 of one aspect with the URN url-encoded", () => {
    expect(buildGetAspectRequest("http://gms:8080", "tok", URN, "dataHubExecutionRequestSignal")).toEqual({
      url:
        "http://gms:8080/aspects/urn%3Ali%3AdataHubExecutionRequest%3A3f1c2e7a-1b1d-4c7b-9a51-1c2d3e4f5a6b" +
        "?aspect=dataHubExecutionRequestSignal&version=0",
      method: "GET",
      headers: { Authorization: "Bearer tok", Accept: "application/json", "X-RestLi-Protocol-Version": "2.0.0" },
    });
  });

  it("encodes URNs with reserved characters (tuple URNs, spaces, slashes)", () => {
    const request = buildGetAspectRequest("http://gms:8080", "t", "urn:li:x:(a,b c/d?e)", "y");
    expect(request.url).toBe("http://gms:8080/aspects/urn%3Ali%3Ax%3A(a%2Cb%20c%2Fd%3Fe)?aspect=y&version=0");
  });
});

describe("the executor status aspect", () => {
  it("has every field of dataHubRemoteExecutorStatus, reportedAt in seconds", () => {
    expect(remoteExecutorUrn("prod", "main")).toBe("urn:li:dataHubRemoteExecutor:prod-main");
    expect(
      buildExecutorStatusValue("main", {
        releaseVersion: "0.1.0",
        uptimeSeconds: 12.5,
        reportedAtSeconds: 1_764_300_000,
        hostname: "reconcile",
      }),
    ).toEqual({
      poolName: "main",
      executorReleaseVersion: "0.1.0",
      executorAddress: "",
      executorHostname: "reconcile",
      executorUptime: 12.5,
      executorExpired: false,
      executorStopped: false,
      executorEmbedded: false,
      executorInternal: false,
      logDeliveryEnabled: false,
      reportedAt: 1_764_300_000,
    });
  });

  it("leaves the hostname empty when there is none", () => {
    const value = buildExecutorStatusValue("p", { releaseVersion: "1", uptimeSeconds: 0, reportedAtSeconds: 1 });
    expect(value.executorHostname).toBe("");
  });

  it.each([1_764_300_000_000, 1_764_300_000.5])("refuses reportedAtSeconds %d (milliseconds or fractional)", (at) => {
    expect(() =>
      buildExecutorStatusValue("p", { releaseVersion: "1", uptimeSeconds: 0, reportedAtSeconds: at }),
    ).toThrow(/whole epoch seconds/);
  });
});
