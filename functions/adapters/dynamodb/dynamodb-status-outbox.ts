import { DeleteCommand, type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { StatusOutbox } from "../../app/ports.js";
import type { RunState } from "../../core/run-record.js";
import type { OutboxEntry } from "../../core/status-outbox.js";
import {
  buildCountSendUpdate,
  buildDeliveredDelete,
  buildOutboxQuery,
  buildRefusedDeliveryTransaction,
  buildReleaseLeaseUpdate,
  buildRunOutboxQuery,
  buildTakeLeaseUpdate,
} from "./outbox-requests.js";
import { isConditionalCheckFailed, sendTransaction, TransactionConditionFailed } from "./transactions.js";

function toEntry(item: Record<string, unknown>): OutboxEntry {
  const { pk: _pk, sk: _sk, entity: _entity, ...entry } = item;
  return entry as OutboxEntry;
}

export class DynamoDbStatusOutbox implements StatusOutbox {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async listPending(): Promise<OutboxEntry[]> {
    const entries: OutboxEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(new QueryCommand(buildOutboxQuery(this.table, start)));
      entries.push(...(page.Items ?? []).map(toEntry));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return entries;
  }

  async listPendingForRun(runId: string): Promise<OutboxEntry[]> {
    const { Items = [] } = await this.doc.send(new QueryCommand(buildRunOutboxQuery(this.table, runId)));
    return Items.map(toEntry);
  }

  async takeLease(runId: string, nowMs: number, untilMs: number): Promise<boolean> {
    return this.conditional(() =>
      this.doc.send(new UpdateCommand(buildTakeLeaseUpdate(this.table, runId, nowMs, untilMs))),
    );
  }

  async releaseLease(runId: string, untilMs: number): Promise<void> {
    await this.conditional(() => this.doc.send(new UpdateCommand(buildReleaseLeaseUpdate(this.table, runId, untilMs))));
  }

  async countSend(entry: OutboxEntry): Promise<boolean> {
    return this.conditional(() => this.doc.send(new UpdateCommand(buildCountSendUpdate(this.table, entry))));
  }

  async markDelivered(entry: OutboxEntry): Promise<void> {
    await this.conditional(() => this.doc.send(new DeleteCommand(buildDeliveredDelete(this.table, entry))));
  }

  async markRefused(entry: OutboxEntry, error: string, nowMs: number, runState: RunState): Promise<void> {
    try {
      await sendTransaction(this.doc, buildRefusedDeliveryTransaction(this.table, entry, error, nowMs, runState));
    } catch (failure) {
      if (!(failure instanceof TransactionConditionFailed)) throw failure;
    }
  }

  /** true when the write happened; false when its condition failed (someone else got there first). */
  private async conditional(send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
