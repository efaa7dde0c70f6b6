import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { RunStore } from "../../app/ports.js";
import { CapacityExhaustedError, RunAlreadyAdmittedError, RunStateChangedError } from "../../core/errors.js";
import type { RunPlan } from "../../core/plan-run.js";
import { type ClosedRun, type QueueEntry, type RunRecord, RunState, type StopRequest } from "../../core/run-record.js";
import type { CapacityClass } from "../../core/weights.js";
import type { RunReport } from "./report-requests.js";
import {
  buildAcquireTransaction,
  buildActiveRunsQuery,
  buildAdmitTransaction,
  buildCancelWaitingTransaction,
  buildClosedRunTransaction,
  buildCountAheadQuery,
  buildGetRun,
  buildMarkRunningTransaction,
  buildQueueHeadQuery,
  buildRecordLaunchedUpdate,
  buildRefreshRunningTransaction,
  buildReleaseTransaction,
  buildRequestStopUpdate,
  buildRequeueTransaction,
  newRunRecord,
} from "./run-requests.js";
import { Keys } from "./table-keys.js";
import { isConditionalCheckFailed, sendTransaction, TransactionConditionFailed } from "./transactions.js";

const STORAGE_KEYS = ["pk", "sk", "entity", "activityPk", "activitySk", "rejectionCode"] as const;

export function toRunRecord(item: Record<string, unknown>): RunRecord {
  const record = { ...item };
  for (const key of STORAGE_KEYS) delete record[key];
  return record as RunRecord;
}

function toQueueEntry(item: Record<string, unknown>): QueueEntry {
  const { pk: _pk, sk: _sk, entity: _entity, ...entry } = item;
  return entry as QueueEntry;
}

export class DynamoDbRunStore implements RunStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async admit(plan: RunPlan, nowMs: number): Promise<RunRecord> {
    try {
      await sendTransaction(this.doc, buildAdmitTransaction(this.table, plan, nowMs));
    } catch (error) {
      if (error instanceof TransactionConditionFailed && (error.failedAt(0) || error.failedAt(1))) {
        const old = error.itemAt(0);
        throw new RunAlreadyAdmittedError(old === undefined ? await this.getRun(plan.runId) : toRunRecord(old));
      }
      throw error;
    }
    return newRunRecord(plan, nowMs);
  }

  async recordClosedRun(closed: ClosedRun, nowMs: number): Promise<"recorded" | "run-exists"> {
    try {
      await sendTransaction(this.doc, buildClosedRunTransaction(this.table, closed, nowMs));
      return "recorded";
    } catch (error) {
      if (error instanceof TransactionConditionFailed && error.failedAt(0)) return "run-exists";
      throw error;
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const { Item } = await this.doc.send(new GetCommand(buildGetRun(this.table, runId)));
    return Item === undefined ? undefined : toRunRecord(Item);
  }

  async readQueue(
    poolId: string,
    capacityClass: CapacityClass,
    limit: number,
    startAfter?: string,
  ): Promise<QueueEntry[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand(buildQueueHeadQuery(this.table, poolId, capacityClass, limit, startAfter)),
    );
    return Items.map(toQueueEntry);
  }

  async countAhead(entry: Pick<QueueEntry, "poolId" | "capacityClass" | "queueKey">): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ ...buildCountAheadQuery(this.table, entry), ExclusiveStartKey: start }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return count;
  }

  async acquire(entry: QueueEntry, nowMs: number): Promise<RunRecord> {
    try {
      await sendTransaction(this.doc, buildAcquireTransaction(this.table, entry, nowMs));
    } catch (error) {
      if (error instanceof TransactionConditionFailed) {
        if (error.failedAt(1) || error.failedAt(2)) throw new RunStateChangedError(entry.runId, "waiting");
        if (error.failedAt(0)) throw new CapacityExhaustedError(error.itemAt(0)?.usedMicro as number | undefined);
      }
      throw error;
    }
    const run = await this.getRun(entry.runId);
    if (run === undefined) throw new RunStateChangedError(entry.runId, "present");
    return run;
  }

  async recordLaunched(run: RunRecord, taskArn: string, nowMs: number): Promise<RunRecord> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({ ...buildRecordLaunchedUpdate(this.table, run, taskArn, nowMs), ReturnValues: "ALL_NEW" }),
      );
      return toRunRecord(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error))
        throw new RunStateChangedError(run.runId, `launching attempt ${run.launchAttempt}`);
      throw error;
    }
  }

  async requeue(
    run: RunRecord,
    failure: { cause: "launch" | "infrastructure"; reason: string; notBeforeMs: number },
    nowMs: number,
  ): Promise<void> {
    await this.releaseOnce(run, () =>
      sendTransaction(this.doc, buildRequeueTransaction(this.table, run, failure, nowMs)),
    );
  }

  async markRunning(run: RunRecord, started: { taskArn: string; startedAtMs: number }, nowMs: number): Promise<void> {
    await this.onRunItem(run, 0, "launching or launched", () =>
      sendTransaction(this.doc, buildMarkRunningTransaction(this.table, run, started, nowMs)),
    );
  }

  async refreshRunning(run: RunRecord, nowMs: number): Promise<void> {
    await this.onRunItem(run, 0, "running", () =>
      sendTransaction(this.doc, buildRefreshRunningTransaction(this.table, run, nowMs)),
    );
  }

  async cancelWaiting(run: RunRecord, reason: string, nowMs: number): Promise<void> {
    try {
      await sendTransaction(this.doc, buildCancelWaitingTransaction(this.table, run, reason, nowMs));
    } catch (error) {
      if (error instanceof TransactionConditionFailed && (error.failedAt(0) || error.failedAt(1))) {
        throw new RunStateChangedError(run.runId, "waiting");
      }
      throw error;
    }
  }

  async requestStop(run: RunRecord, stop: StopRequest): Promise<RunRecord> {
    try {
      const { Attributes } = await this.doc.send(new UpdateCommand(buildRequestStopUpdate(this.table, run, stop)));
      return toRunRecord(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new RunStateChangedError(run.runId, "running without a stop request");
      throw error;
    }
  }

  async getReport(runId: string, attempt: number): Promise<RunReport | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: Keys.runReport(runId, attempt), ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    const { pk: _pk, sk: _sk, entity: _entity, ...report } = Item;
    return report as RunReport;
  }

  async failLaunch(run: RunRecord, reason: string, nowMs: number): Promise<void> {
    await this.finish(run, { state: RunState.FAILURE, reason, onlyFrom: RunState.LAUNCHING }, nowMs);
  }

  async finish(
    run: RunRecord,
    outcome: { state: RunState; reason: string; onlyFrom?: RunState },
    nowMs: number,
  ): Promise<void> {
    await this.releaseOnce(run, () =>
      sendTransaction(this.doc, buildReleaseTransaction(this.table, run, outcome, nowMs)),
    );
  }

  async readCapacity(poolId: string, capacityClass: CapacityClass): Promise<{ usedMicro: number; holders: number }> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: Keys.capacity(poolId, capacityClass), ConsistentRead: true }),
    );
    return { usedMicro: Number(Item?.usedMicro ?? 0), holders: Number(Item?.holders ?? 0) };
  }

  async listActiveRuns(poolId: string): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({ ...buildActiveRunsQuery(this.table, poolId), ExclusiveStartKey: start }),
      );
      runs.push(...(page.Items ?? []).map(toRunRecord));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return runs;
  }

  private async releaseOnce(run: RunRecord, send: () => Promise<void>): Promise<void> {
    await this.onRunItem(run, 1, `holding weight for attempt ${run.launchAttempt}`, send);
  }

  /** A failed condition on the run's own item (the action at `index`) is a domain fact; anything else is not. */
  private async onRunItem(run: RunRecord, index: number, expected: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (error instanceof TransactionConditionFailed && error.failedAt(index)) {
        throw new RunStateChangedError(run.runId, expected);
      }
      throw error;
    }
  }
}
