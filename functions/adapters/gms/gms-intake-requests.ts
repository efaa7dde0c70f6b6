import { buildExecutionRequestQuery } from "../../core/intake-plan.js";
import { buildIngestProposalRequest, GmsAspect, type GmsRequest } from "./gms-requests.js";

/**
 * Pure request builders for the intake's GMS calls (docs/intake.md says where each shape comes from in
 * DataHub's source). The existing Rest.li builders live in gms-requests.ts.
 */

export const GmsIntakeAspect = {
  EXECUTION_REQUEST_INPUT: "dataHubExecutionRequestInput",
  EXECUTION_REQUEST_RESULT: GmsAspect.EXECUTION_REQUEST_RESULT,
  EXECUTION_REQUEST_SIGNAL: GmsAspect.EXECUTION_REQUEST_SIGNAL,
  REMOTE_EXECUTOR_POOL_INFO: "dataHubRemoteExecutorPoolInfo",
} as const;

export const REMOTE_EXECUTOR_POOL_ENTITY = "dataHubRemoteExecutorPool";

/** OpenAPI v3 path segments are the entity name lower-cased (as DataHub's generated OpenAPI spec lists them). */
const EXECUTION_REQUEST_PATH = "/openapi/v3/entity/datahubexecutionrequest";

export const CREATE_EXECUTION_REQUEST_MUTATION =
  "mutation createIngestionExecutionRequest($input: CreateIngestionExecutionRequestInput!) { createIngestionExecutionRequest(input: $input) }";

/**
 * One page of the entity scroll (GenericEntitiesController.getEntities): this stage's pools, newer than
 * `sinceMs`, oldest first, with the three aspects the intake decides on. skipCache: a cached search page
 * would hide requests created since.
 */
export function buildScrollExecutionRequestsRequest(
  gmsUrl: string,
  token: string,
  query: { poolIds: readonly string[]; sinceMs: number; count: number; scrollId?: string },
): GmsRequest {
  const params = new URLSearchParams();
  params.set("query", buildExecutionRequestQuery(query.poolIds, query.sinceMs));
  params.set("count", String(query.count));
  for (const aspect of [
    GmsIntakeAspect.EXECUTION_REQUEST_INPUT,
    GmsIntakeAspect.EXECUTION_REQUEST_RESULT,
    GmsIntakeAspect.EXECUTION_REQUEST_SIGNAL,
  ]) {
    params.append("aspects", aspect);
  }
  params.set("sortCriteria", "requestTimeMs");
  params.set("sortOrder", "ASCENDING");
  params.set("skipCache", "true");
  if (query.scrollId !== undefined) params.set("scrollId", query.scrollId);
  return {
    url: `${gmsUrl}${EXECUTION_REQUEST_PATH}?${params.toString()}`,
    method: "GET",
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
  };
}

/** GraphQL createIngestionExecutionRequest, what the UI's "Run" button calls. */
export function buildCreateExecutionRequestRequest(gmsUrl: string, token: string, ingestionSourceUrn: string) {
  return {
    url: `${gmsUrl}/api/graphql`,
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      query: CREATE_EXECUTION_REQUEST_MUTATION,
      variables: { input: { ingestionSourceUrn } },
    }),
  } satisfies GmsRequest;
}

export function remoteExecutorPoolUrn(poolId: string): string {
  return `urn:li:${REMOTE_EXECUTOR_POOL_ENTITY}:${poolId}`;
}

/**
 * dataHubRemoteExecutorPoolInfo (RemoteExecutorPoolInfo.pdl) through ingestProposal. No queueUrl: DataHub
 * Cloud would take it for its own executor queue; ours is not DataHub's to write to.
 */
export function buildPublishPoolRequest(
  gmsUrl: string,
  token: string,
  pool: { poolId: string; createdAtMs: number; state: { status: string; message?: string }; nowMs: number },
): GmsRequest {
  return buildIngestProposalRequest(gmsUrl, token, {
    entityType: REMOTE_EXECUTOR_POOL_ENTITY,
    entityUrn: remoteExecutorPoolUrn(pool.poolId),
    aspectName: GmsIntakeAspect.REMOTE_EXECUTOR_POOL_INFO,
    value: { createdAt: pool.createdAtMs, state: pool.state },
    systemMetadata: { lastObserved: pool.nowMs },
  });
}
