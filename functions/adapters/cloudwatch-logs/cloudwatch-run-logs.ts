import {
  type CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
} from "@aws-sdk/client-cloudwatch-logs";
import type { RunLogs } from "../../app/ports.js";

export type RunLogSettings = { logGroup: string; streamPrefix: string; containerName: string };

/** awslogs names a task's stream <prefix>/<container>/<task id>. */
export function buildTailRequest(settings: RunLogSettings, taskArn: string, limit = 200): GetLogEventsCommandInput {
  const taskId = taskArn.split("/").at(-1) ?? taskArn;
  return {
    logGroupName: settings.logGroup,
    logStreamName: `${settings.streamPrefix}/${settings.containerName}/${taskId}`,
    startFromHead: false,
    limit,
  };
}

/** The last lines of a run's log stream (already masked by the task), or undefined when there is none. */
export class CloudWatchRunLogs implements RunLogs {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly settings: RunLogSettings,
  ) {}

  async tail(taskArn: string): Promise<string | undefined> {
    try {
      const { events = [] } = await this.logs.send(new GetLogEventsCommand(buildTailRequest(this.settings, taskArn)));
      if (events.length === 0) return undefined;
      return events.map((e) => e.message ?? "").join("\n");
    } catch (error) {
      if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }
}
