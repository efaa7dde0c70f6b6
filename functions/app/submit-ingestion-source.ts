import { EXECUTION_REQUEST_URN_PATTERN } from "../core/execution-request-message.js";
import type { IngestionSourceRunner } from "./intake-ports.js";

export const INGESTION_SOURCE_URN_PATTERN = /^urn:li:dataHubIngestionSource:[^\s]{1,200}$/;

export class InvalidIngestionSourceUrnError extends Error {
  override readonly name = "InvalidIngestionSourceUrnError" as const;
}

export class UnexpectedExecutionRequestUrnError extends Error {
  override readonly name = "UnexpectedExecutionRequestUrnError" as const;
}

/**
 * "Run this ingestion source now", the way DataHub's UI does it: GMS creates the execution request (so the run
 * shows under the source like one started there, with the source's recipe, version and executorId), and the
 * intake picks it up on its next poll. Returns the new execution request's URN.
 */
export async function submitIngestionSource(
  runner: IngestionSourceRunner,
  ingestionSourceUrn: string,
): Promise<{ executionRequestUrn: string }> {
  if (!INGESTION_SOURCE_URN_PATTERN.test(ingestionSourceUrn)) {
    throw new InvalidIngestionSourceUrnError(
      `"${ingestionSourceUrn.slice(0, 120)}" is not an ingestion source URN (urn:li:dataHubIngestionSource:<id>)`,
    );
  }
  const executionRequestUrn = await runner.createExecutionRequest(ingestionSourceUrn);
  if (!EXECUTION_REQUEST_URN_PATTERN.test(executionRequestUrn)) {
    throw new UnexpectedExecutionRequestUrnError(
      `GMS answered with "${executionRequestUrn.slice(0, 120)}", not an execution request URN`,
    );
  }
  return { executionRequestUrn };
}
