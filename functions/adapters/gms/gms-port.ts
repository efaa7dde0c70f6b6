import type { ExecutionResultValue } from "../../core/execution-result.js";

export type ExecutorStatusReport = {
  releaseVersion: string;
  uptimeSeconds: number;
  /** Epoch SECONDS (DataHub shows a record older than an hour as stale). */
  reportedAtSeconds: number;
  hostname?: string;
};

export type KillSignal = { signal: string; createdAtMs?: number };

/**
 * What the executor needs from DataHub's GMS. Every method throws GmsRejectedError (permanent: do not retry)
 * or GmsUnavailableError (transient: keep the write and try again later).
 */
export interface DataHubStatusApi {
  writeExecutionResult(executionRequestUrn: string, value: ExecutionResultValue): Promise<void>;
  /** undefined when the request has no result aspect yet (GMS answers 404). */
  readExecutionResult(executionRequestUrn: string): Promise<ExecutionResultValue | undefined>;
  /** undefined when nobody asked to cancel (no dataHubExecutionRequestSignal aspect). */
  readKillSignal(executionRequestUrn: string): Promise<KillSignal | undefined>;
  /** Entity dataHubRemoteExecutor urn:li:dataHubRemoteExecutor:<stage>-<pool>, aspect dataHubRemoteExecutorStatus. */
  writeExecutorStatus(stage: string, poolId: string, status: ExecutorStatusReport): Promise<void>;
}
