import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { DEAD_LETTER_ATTRIBUTES } from "../../adapters/sqs/sqs-dead-letter-queue.js";
import { formatTable, UsageError } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";

export type DeadLetter = {
  messageId: string;
  code?: string;
  reason?: string;
  executionRequestUrn?: string;
  sentAtMs?: number;
  receiveCount?: number;
  body: string;
};

/** The most messages one command looks at: an operator's view, not a drain. */
const MAX_MESSAGES = 100;
/** How long the messages read stay hidden from other readers while the command works on them. */
const HOLD_SECONDS = 30;

/**
 * Reads the DLQ's messages, holding them hidden for a short while so one pass sees each once, and hands them
 * back visible when `release` is set (dlq list), so listing never consumes anything.
 */
async function readDeadLetters(
  target: CliTarget,
  release: boolean,
): Promise<{ letters: DeadLetter[]; handles: Map<string, string> }> {
  const queueUrl = await target.deadLetterQueueUrl();
  const seen = new Map<string, Message>();
  while (seen.size < MAX_MESSAGES) {
    const { Messages = [] } = await target.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: HOLD_SECONDS,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId !== undefined && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) seen.set(m.MessageId ?? "", m);
  }
  const handles = new Map<string, string>();
  for (const [id, m] of seen) if (m.ReceiptHandle !== undefined) handles.set(id, m.ReceiptHandle);
  if (release) {
    for (const handle of handles.values()) {
      await target.sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }),
      );
    }
  }
  const letters = [...seen.values()].map((m): DeadLetter => {
    const attribute = (name: string) => m.MessageAttributes?.[name]?.StringValue;
    const code = attribute(DEAD_LETTER_ATTRIBUTES.CODE);
    const reason = attribute(DEAD_LETTER_ATTRIBUTES.REASON);
    const urn = attribute(DEAD_LETTER_ATTRIBUTES.EXECUTION_REQUEST_URN);
    const sent = m.Attributes?.SentTimestamp;
    const count = m.Attributes?.ApproximateReceiveCount;
    return {
      messageId: m.MessageId ?? "",
      ...(code === undefined ? {} : { code }),
      ...(reason === undefined ? {} : { reason }),
      ...(urn === undefined ? {} : { executionRequestUrn: urn }),
      ...(sent === undefined ? {} : { sentAtMs: Number(sent) }),
      ...(count === undefined ? {} : { receiveCount: Number(count) }),
      body: m.Body ?? "",
    };
  });
  return { letters, handles };
}

export async function listDeadLetters(target: CliTarget): Promise<DeadLetter[]> {
  return (await readDeadLetters(target, true)).letters;
}

export function formatDeadLetters(letters: DeadLetter[]): string {
  if (letters.length === 0) return "the dead-letter queue is empty";
  return formatTable(
    ["message", "code", "execution request", "reason"],
    letters.map((l) => [
      l.messageId,
      // A message without our attributes came from SQS's redrive policy: dispatch failed it too many times.
      l.code ?? "(receive limit)",
      l.executionRequestUrn ?? "",
      (l.reason ?? "").slice(0, 120),
    ]),
  );
}

/**
 * Sends the chosen messages (or all with `all`) back to the intake queue, body unchanged, and deletes them from
 * the DLQ once sent. A message refused for its content will be refused again: fix the cause first (`dlq list`).
 */
export async function redriveDeadLetters(
  target: CliTarget,
  choice: { all: boolean; messageIds: string[] },
): Promise<{ redriven: string[]; notFound: string[] }> {
  if (!choice.all && choice.messageIds.length === 0) {
    throw new UsageError("dlq redrive needs message ids (from dlq list) or --all");
  }
  const intakeUrl = await target.intakeQueueUrl();
  const dlqUrl = await target.deadLetterQueueUrl();
  const { letters, handles } = await readDeadLetters(target, false);
  const wanted = new Set(choice.all ? letters.map((l) => l.messageId) : choice.messageIds);
  const redriven: string[] = [];
  for (const letter of letters) {
    const handle = handles.get(letter.messageId);
    if (!wanted.has(letter.messageId) || handle === undefined) continue;
    await target.sqs.send(new SendMessageCommand({ QueueUrl: intakeUrl, MessageBody: letter.body }));
    await target.sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: handle }));
    redriven.push(letter.messageId);
  }
  // The others go back at once rather than after the hold.
  for (const [id, handle] of handles) {
    if (redriven.includes(id)) continue;
    await target.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }),
    );
  }
  const notFound = choice.all ? [] : choice.messageIds.filter((id) => !redriven.includes(id));
  if (notFound.length > 0 && redriven.length === 0) {
    throw new UsageError(`no message ${notFound.join(", ")} in the dead-letter queue of ${target.label}`);
  }
  return { redriven, notFound };
}
