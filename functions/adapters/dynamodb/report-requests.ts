import type { PutCommandInput } from "@aws-sdk/lib-dynamodb";
import type { RunReport } from "../../core/run-report.js";
import { Keys } from "./table-keys.js";

export { RUN_REPORT_LIMITS, type RunReport, RunReportOutcome } from "../../core/run-report.js";

/**
 * One item per launch attempt, so a retried launch never overwrites the report of the attempt before it;
 * writing the same attempt again (a task restarted by hand) replaces it.
 */
export function buildRunReportPut(table: string, report: RunReport): PutCommandInput {
  return {
    TableName: table,
    Item: {
      ...Keys.runReport(report.runId, report.launchAttempt),
      entity: "run-report",
      runId: report.runId,
      executionRequestUrn: report.executionRequestUrn,
      launchAttempt: report.launchAttempt,
      exitCode: report.exitCode,
      outcome: report.outcome,
      message: report.message,
      ...(report.structuredReport === undefined ? {} : { structuredReport: report.structuredReport }),
      logTail: report.logTail,
      ...(report.cliVersion === undefined ? {} : { cliVersion: report.cliVersion }),
      ...(report.memoryLimitKiB === undefined ? {} : { memoryLimitKiB: report.memoryLimitKiB }),
      startedAtMs: report.startedAtMs,
      finishedAtMs: report.finishedAtMs,
    },
  };
}
