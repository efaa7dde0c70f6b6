import type { ExecutorStatusReport } from "./gms-port.js";

/** Written into every proposal's systemMetadata so DataHub can tell our writes apart. */
export const GMS_APP_SOURCE = "datahub-serverless-executor";

export const GmsAspect = {
  EXECUTION_REQUEST_RESULT: "dataHubExecutionRequestResult",
  EXECUTION_REQUEST_SIGNAL: "dataHubExecutionRequestSignal",
  REMOTE_EXECUTOR_STATUS: "dataHubRemoteExecutorStatus",
} as const;

export const GmsEntity = {
  EXECUTION_REQUEST: "dataHubExecutionRequest",
  REMOTE_EXECUTOR: "dataHubRemoteExecutor",
} as const;

/** GET /aspects answers key the value by its Pegasus class (metadata-models, com.linkedin.execution). */
export const GmsAspectClass = {
  EXECUTION_REQUEST_RESULT: "com.linkedin.execution.ExecutionRequestResult",
  EXECUTION_REQUEST_SIGNAL: "com.linkedin.execution.ExecutionRequestSignal",
} as const;

export type GmsRequest = {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
};

export type AspectProposal = {
  entityType: string;
  entityUrn: string;
  aspectName: string;
  value: unknown;
  systemMetadata: { lastObserved: number };
};

/** UPSERT of one aspect through Rest.li's ingestProposal (datahub-protocol.md §3); aspect.value is a JSON string. */
export function buildIngestProposalRequest(gmsUrl: string, token: string, proposal: AspectProposal): GmsRequest {
  return {
    url: `${gmsUrl}/aspects?action=ingestProposal`,
    method: "POST",
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      "X-RestLi-Protocol-Version": "2.0.0",
    },
    body: JSON.stringify({
      proposal: {
        entityType: proposal.entityType,
        entityUrn: proposal.entityUrn,
        changeType: "UPSERT",
        aspectName: proposal.aspectName,
        aspect: { contentType: "application/json", value: JSON.stringify(proposal.value) },
        systemMetadata: {
          lastObserved: proposal.systemMetadata.lastObserved,
          properties: { appSource: GMS_APP_SOURCE },
        },
      },
      // Synchronous: the write is in GMS's store when the answer comes, so a read-back sees it.
      async: "false",
    }),
  };
}

/** The latest version (0) of one aspect; GMS answers 404 when the entity has none. */
export function buildGetAspectRequest(gmsUrl: string, token: string, urn: string, aspectName: string): GmsRequest {
  return {
    url: `${gmsUrl}/aspects/${encodeURIComponent(urn)}?aspect=${encodeURIComponent(aspectName)}&version=0`,
    method: "GET",
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: "application/json",
      "X-RestLi-Protocol-Version": "2.0.0",
    },
  };
}

export function remoteExecutorUrn(stage: string, poolId: string): string {
  return `urn:li:${GmsEntity.REMOTE_EXECUTOR}:${stage}-${poolId}`;
}

// Anything above this is a millisecond timestamp (1e11 s is the year 5138).
const LARGEST_PLAUSIBLE_EPOCH_SECONDS = 1e11;

/** The dataHubRemoteExecutorStatus value (datahub-protocol.md §4): one executor entity per stage and pool. */
export function buildExecutorStatusValue(poolId: string, status: ExecutorStatusReport) {
  if (!Number.isSafeInteger(status.reportedAtSeconds) || status.reportedAtSeconds > LARGEST_PLAUSIBLE_EPOCH_SECONDS) {
    throw new RangeError(`reportedAtSeconds must be whole epoch seconds, got ${status.reportedAtSeconds}`);
  }
  return {
    poolName: poolId,
    executorReleaseVersion: status.releaseVersion,
    // Lambdas have no address DataHub could reach; DataHub's worker also leaves it empty when it has none.
    executorAddress: "",
    executorHostname: status.hostname ?? "",
    executorUptime: status.uptimeSeconds,
    executorExpired: false,
    executorStopped: false,
    executorEmbedded: false,
    executorInternal: false,
    logDeliveryEnabled: false,
    reportedAt: status.reportedAtSeconds,
  };
}
