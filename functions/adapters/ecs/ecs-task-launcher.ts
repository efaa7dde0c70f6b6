import { type ECSClient, ListTasksCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import type { TaskLauncher } from "../../app/ports.js";
import type { RunTaskAnswer } from "../../core/launch-outcome.js";
import type { RunRecord } from "../../core/run-record.js";
import { buildRunTaskInput, type LaunchSettings } from "./run-task-request.js";

/** Errors the service itself answered with; transport failures and the like are rethrown untouched. */
function isServiceError(error: unknown): error is Error & { $fault: "client" | "server" } {
  return error instanceof Error && "$fault" in error && "$metadata" in error;
}

export class EcsTaskLauncher implements TaskLauncher {
  constructor(
    private readonly ecs: ECSClient,
    private readonly settings: LaunchSettings,
  ) {}

  async findTask(token: string): Promise<string | undefined> {
    // ListTasks defaults to RUNNING (which includes PENDING); a task that already stopped is listed apart.
    for (const desiredStatus of ["RUNNING", "STOPPED"] as const) {
      const { taskArns = [] } = await this.ecs.send(
        new ListTasksCommand({ cluster: this.settings.cluster, startedBy: token, desiredStatus }),
      );
      if (taskArns[0] !== undefined) return taskArns[0];
    }
    return undefined;
  }

  async runTask(run: RunRecord): Promise<RunTaskAnswer> {
    try {
      const { tasks = [], failures = [] } = await this.ecs.send(
        new RunTaskCommand(buildRunTaskInput(run, this.settings)),
      );
      return {
        kind: "response",
        taskArns: tasks.flatMap((t) => (t.taskArn === undefined ? [] : [t.taskArn])),
        failures: failures.map((f) => ({
          ...(f.reason === undefined ? {} : { reason: f.reason }),
          ...(f.detail === undefined ? {} : { detail: f.detail }),
        })),
      };
    } catch (error) {
      if (isServiceError(error) && error.$fault === "client") {
        return { kind: "error", name: error.name, message: error.message };
      }
      throw error;
    }
  }
}
