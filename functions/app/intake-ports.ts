import type { Logger } from "@aws-lambda-powertools/logger";
import type { IntakeMessageKind, ScannedExecutionRequest } from "../core/intake-plan.js";
import type { Clock, PoolStore } from "./ports.js";

/** What the intake needs from the outside world (docs/intake.md); adapters implement these. */

export type ExecutionRequestPage = { requests: ScannedExecutionRequest[]; scrollId?: string };

/** GMS's execution requests for some pools, newest look-back only, page by page. */
export interface ExecutionRequestFeed {
  scan(query: {
    poolIds: readonly string[];
    sinceMs: number;
    count: number;
    scrollId?: string;
  }): Promise<ExecutionRequestPage>;
}

/** GMS's "run this ingestion source now" (GraphQL createIngestionExecutionRequest). */
export interface IngestionSourceRunner {
  /** @returns the new execution request's URN. */
  createExecutionRequest(ingestionSourceUrn: string): Promise<string>;
}

export type PoolState = { status: "READY"; message?: string };

/** Publishing a pool as dataHubRemoteExecutorPool; throws ExecutorPoolsUnsupportedError when GMS has no such entity. */
export interface ExecutorPoolPublisher {
  publishPool(poolId: string, info: { createdAtMs: number; state: PoolState }): Promise<void>;
}

/**
 * One marker per execution request and message kind: the conditional write that makes a message go out once
 * however many polls overlap. A claim that was never confirmed sent may be taken again after `staleBeforeMs`.
 */
export interface IntakeMarkers {
  claim(
    marker: { executionRequestUrn: string; kind: IntakeMessageKind; poolId: string },
    nowMs: number,
    staleBeforeMs: number,
  ): Promise<boolean>;
  markSent(marker: { executionRequestUrn: string; kind: IntakeMessageKind }, nowMs: number): Promise<void>;
}

export interface IntakeQueue {
  send(body: string): Promise<void>;
}

export type IntakeSettings = {
  /** Requests older than this are not looked at (they are stale, or another executor's history). */
  lookbackMs: number;
  /** Entities per scroll page, and the most pages one poll reads. */
  pageSize: number;
  maxPages: number;
  /** A claim not confirmed sent within this is taken again (the claimer crashed before or during SendMessage). */
  claimLeaseMs: number;
};

export type IntakeDeps = {
  pools: Pick<PoolStore, "list">;
  feed: ExecutionRequestFeed;
  markers: IntakeMarkers;
  queue: IntakeQueue;
  settings: IntakeSettings;
  now: Clock;
  logger: Logger;
};

export class ExecutorPoolsUnsupportedError extends Error {
  override readonly name = "ExecutorPoolsUnsupportedError" as const;
}
