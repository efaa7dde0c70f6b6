import {
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import type { TaskLauncher, TaskView } from "../../app/ports.js";
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

  async stopTask(taskArn: string, reason: string): Promise<void> {
    // StopTask's reason is at most 255 characters; it shows up as the task's stoppedReason.
    await this.ecs.send(
      new StopTaskCommand({ cluster: this.settings.cluster, task: taskArn, reason: reason.slice(0, 255) }),
    );
  }

  async describeTasks(taskArns: string[]): Promise<TaskView[]> {
    const views: TaskView[] = [];
    for (let i = 0; i < taskArns.length; i += 100) {
      const batch = taskArns.slice(i, i + 100);
      const { tasks = [], failures = [] } = await this.ecs.send(
        new DescribeTasksCommand({ cluster: this.settings.cluster, tasks: batch }),
      );
      for (const task of tasks) {
        if (task.taskArn === undefined) continue;
        views.push({
          taskArn: task.taskArn,
          lastStatus: task.lastStatus ?? "UNKNOWN",
          ...(task.stopCode === undefined ? {} : { stopCode: task.stopCode }),
          ...(task.stoppedReason === undefined ? {} : { stoppedReason: task.stoppedReason }),
          ...(task.startedAt === undefined ? {} : { startedAtMs: task.startedAt.getTime() }),
          containers: (task.containers ?? []).map((c) => ({
            ...(c.name === undefined ? {} : { name: c.name }),
            ...(c.exitCode === undefined ? {} : { exitCode: c.exitCode }),
            ...(c.reason === undefined ? {} : { reason: c.reason }),
          })),
        });
      }
      for (const failure of failures) {
        if (failure.arn !== undefined && failure.reason === "MISSING") {
          views.push({ taskArn: failure.arn, lastStatus: "MISSING", containers: [] });
        }
      }
    }
    return views;
  }
}
