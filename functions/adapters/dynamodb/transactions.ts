import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";

/** Why each action of a cancelled transaction failed, with the item as it was when a condition failed. */
export type Cancellation = { code: string; item: Record<string, unknown> | undefined }[];

export class TransactionConditionFailed extends Error {
  override readonly name = "TransactionConditionFailed" as const;
  constructor(readonly reasons: Cancellation) {
    super(`transaction cancelled: ${reasons.map((r) => r.code).join(", ")}`);
  }
  /** Did the action at this index fail its condition? */
  failedAt(index: number): boolean {
    return this.reasons[index]?.code === "ConditionalCheckFailed";
  }
  itemAt(index: number): Record<string, unknown> | undefined {
    return this.reasons[index]?.item;
  }
}

const CONFLICT_RETRIES = 8;

/**
 * Sends a transaction. A failed condition becomes TransactionConditionFailed (a domain fact for the caller to
 * name); conflicts with a concurrent transaction on the same item are retried with jitter; anything else is
 * rethrown as it came.
 */
export async function sendTransaction(
  doc: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand(input));
      return;
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons === undefined) throw error;
      if (reasons.some((r) => r.code === "ConditionalCheckFailed")) throw new TransactionConditionFailed(reasons);
      const conflict = reasons.some((r) => r.code === "TransactionConflict");
      if (!conflict || attempt >= CONFLICT_RETRIES) throw error;
      await sleep(Math.random() * 20 * 2 ** attempt);
    }
  }
}

function cancellationReasons(error: unknown): Cancellation | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  const raw = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] })
    .CancellationReasons;
  if (raw === undefined) return undefined;
  return raw.map((r) => ({ code: r.Code ?? "None", item: r.Item === undefined ? undefined : unmarshall(r.Item) }));
}

export function isConditionalCheckFailed(error: unknown): error is Error & { Item?: Record<string, AttributeValue> } {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
