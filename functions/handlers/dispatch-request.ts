import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { z } from "zod";
import { type DispatchOutcome, dispatchMessage } from "../app/dispatch-message.js";
import type { ExecutorDeps } from "../app/executor-deps.js";
import { countLaunches, MetricName } from "./record-metrics.js";

const SqsRecordShape = z.object({ messageId: z.string().min(1), body: z.string() });
const SqsEventShape = z.object({ Records: z.array(z.unknown()) });

/**
 * The dispatch Lambda: one intake message per record, partial batch responses, so one bad or failing
 * record never fails the others. Bad input is answered inside dispatchMessage (DLQ + record); a record
 * fails here only for a transient error, and SQS delivers it again.
 */
export function createDispatchHandler(deps: ExecutorDeps, metrics?: Metrics) {
  const processor = new BatchProcessor(EventType.SQS);
  const handleRecord = async (record: SQSRecord): Promise<DispatchOutcome> => {
    const { messageId, body } = SqsRecordShape.parse(record);
    const outcome = await dispatchMessage(deps, { messageId, body });
    if (metrics !== undefined) countOutcome(metrics, outcome);
    return outcome;
  };
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    SqsEventShape.parse(event);
    try {
      return await processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      metrics?.publishStoredMetrics();
    }
  };
}

function countOutcome(metrics: Metrics, outcome: DispatchOutcome): void {
  if (outcome.kind === "rejected") {
    metrics.addMetric(MetricName.MESSAGES_REJECTED, MetricUnit.Count, 1);
    return;
  }
  if (outcome.kind === "cancel") {
    metrics.addMetric(MetricName.CANCEL_REQUESTS, MetricUnit.Count, 1);
    return;
  }
  if (outcome.kind === "admitted") metrics.addMetric(MetricName.RUNS_ADMITTED, MetricUnit.Count, 1);
  countLaunches(metrics, outcome.schedule?.launches ?? []);
}
