import { SendMessageCommand, type SendMessageCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import type { IntakeQueue } from "../../app/intake-ports.js";

export function buildIntakeMessage(queueUrl: string, body: string): SendMessageCommandInput {
  return { QueueUrl: queueUrl, MessageBody: body };
}

/** The intake's messages go on the same queue as everyone else's, so dispatch treats them alike. */
export class SqsIntakeQueue implements IntakeQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(body: string): Promise<void> {
    await this.sqs.send(new SendMessageCommand(buildIntakeMessage(this.queueUrl, body)));
  }
}
