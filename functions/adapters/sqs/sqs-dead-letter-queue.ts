import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import type { DeadLetterQueue } from "../../app/ports.js";

export const DEAD_LETTER_ATTRIBUTES = {
  CODE: "dhx-rejection-code",
  REASON: "dhx-rejection-reason",
  SOURCE_MESSAGE_ID: "dhx-source-message-id",
  EXECUTION_REQUEST_URN: "dhx-execution-request-urn",
} as const;

/** The original body, unchanged, with why it was refused in message attributes. */
export function buildDeadLetterMessage(
  queueUrl: string,
  message: { body: string; messageId: string; code: string; reason: string; executionRequestUrn?: string },
): SendMessageCommandInput {
  const text = (value: string) => ({ DataType: "String", StringValue: value });
  return {
    QueueUrl: queueUrl,
    MessageBody: message.body === "" ? "(empty body)" : message.body,
    MessageAttributes: {
      [DEAD_LETTER_ATTRIBUTES.CODE]: text(message.code),
      [DEAD_LETTER_ATTRIBUTES.REASON]: text(message.reason),
      [DEAD_LETTER_ATTRIBUTES.SOURCE_MESSAGE_ID]: text(message.messageId),
      ...(message.executionRequestUrn === undefined
        ? {}
        : { [DEAD_LETTER_ATTRIBUTES.EXECUTION_REQUEST_URN]: text(message.executionRequestUrn) }),
    },
  };
}

export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: Parameters<DeadLetterQueue["send"]>[0]): Promise<void> {
    await this.sqs.send(new SendMessageCommand(buildDeadLetterMessage(this.queueUrl, message)));
  }
}
