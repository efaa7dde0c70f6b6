import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";
import { TASK_ENV } from "../adapters/ecs/run-task-request.js";
import type { TaskLauncher, TaskView } from "../app/ports.js";
import type { RunTaskAnswer } from "../core/launch-outcome.js";
import type { RunRecord } from "../core/run-record.js";
import type { TaskStateChangeEvent } from "../core/task-state-change-event.js";

export type LocalTaskSettings = {
  /** The cluster ARN the events name, as ECS would. */
  clusterArn: string;
  containerName: string;
  /** The bundled task-image entrypoint (task-image/build-entrypoint.ts), run with this process's node. */
  entrypoint: string;
  /** Where each attempt's output goes: <logDir>/<runId>-<attempt>.log. */
  logDir: string;
  /** The working directory of every task (recipes' relative paths start here). */
  cwd: string;
  /** What the task definition and the image would set: table, stage, secrets prefix, CLI, AWS endpoint... */
  environment: Record<string, string>;
};

type LocalTask = {
  taskArn: string;
  token: string;
  runId: string;
  attempt: number;
  child: ChildProcess;
  lastStatus: "PROVISIONING" | "RUNNING" | "STOPPED";
  startedAtMs?: number;
  exitCode?: number;
  stopCode?: string;
  stoppedReason?: string;
  logPath: string;
  exited: Promise<void>;
};

export function localLogPath(logDir: string, runId: string, attempt: number): string {
  return join(logDir, `${runId}-${attempt}.log`);
}

/**
 * Fargate's stand-in for local mode: a task is the task image's entrypoint as a child process with the
 * environment ECS would give it. It sends the events EventBridge would (RUNNING when the process has started,
 * STOPPED with its exit code when it has exited) to `onEvent`. The entrypoint applies the run's memory limit
 * itself (prlimit), as in the image.
 */
export class LocalTaskLauncher implements TaskLauncher {
  private readonly tasks = new Map<string, LocalTask>();
  private readonly byToken = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly settings: LocalTaskSettings,
    private readonly onEvent: (event: TaskStateChangeEvent) => void,
  ) {
    mkdirSync(settings.logDir, { recursive: true });
  }

  async findTask(token: string): Promise<string | undefined> {
    return this.byToken.get(token);
  }

  async runTask(run: RunRecord): Promise<RunTaskAnswer> {
    if (run.launch === undefined) throw new Error(`run ${run.runId} has no launch intent`);
    const { token, attempt } = run.launch;
    // RunTask's clientToken makes a repeated call answer with the same task; so does this.
    const existing = this.byToken.get(token);
    if (existing !== undefined) return { kind: "response", taskArns: [existing], failures: [] };
    if (this.closed) return { kind: "error", name: "LocalModeStopping", message: "local mode is stopping" };

    const taskArn = `${this.settings.clusterArn.replace(":cluster/", ":task/")}/${randomBytes(16).toString("hex")}`;
    const logPath = localLogPath(this.settings.logDir, run.runId, attempt);
    const log = createWriteStream(logPath, { flags: "a" });
    const child = spawn(process.execPath, [this.settings.entrypoint], {
      cwd: this.settings.cwd,
      env: {
        ...this.settings.environment,
        [TASK_ENV.RUN_ID]: run.runId,
        [TASK_ENV.EXECUTION_REQUEST_URN]: run.executionRequestUrn,
        [TASK_ENV.POOL]: run.poolId,
        [TASK_ENV.LAUNCH_ATTEMPT]: String(attempt),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    let resolveExited: () => void = () => undefined;
    const task: LocalTask = {
      taskArn,
      token,
      runId: run.runId,
      attempt,
      child,
      lastStatus: "PROVISIONING",
      logPath,
      exited: new Promise((resolve) => {
        resolveExited = resolve;
      }),
    };
    this.tasks.set(taskArn, task);
    this.byToken.set(token, taskArn);

    child.once("spawn", () => {
      task.lastStatus = "RUNNING";
      task.startedAtMs = Date.now();
      this.emit(task, 3);
    });
    child.once("error", (error) => {
      // The process could not start at all: what ECS calls a task that failed to start.
      log.write(`local task could not start: ${error.message}\n`);
      task.stopCode = "TaskFailedToStart";
      task.stoppedReason = `CannotStartContainerError: ${error.message}`;
    });
    child.once("close", (code, signal) => {
      // STOPPED only once the output is on disk: its handler reads the log's tail.
      log.end(() => {
        task.lastStatus = "STOPPED";
        // A process killed by a signal reports 128 + its number, as a container's exit code does.
        task.exitCode = code ?? 128 + signalNumber(signal);
        task.stopCode ??= "EssentialContainerExited";
        task.stoppedReason ??= "Essential container in task exited";
        this.emit(task, 5);
        resolveExited();
      });
    });
    return { kind: "response", taskArns: [taskArn], failures: [] };
  }

  async stopTask(taskArn: string, reason: string): Promise<void> {
    const task = this.tasks.get(taskArn);
    if (task === undefined || task.lastStatus === "STOPPED") return;
    // ECS: StopTask sends SIGTERM; the entrypoint forwards it to the ingestion's process group.
    task.stopCode ??= "UserInitiated";
    task.stoppedReason ??= reason.slice(0, 255);
    task.child.kill("SIGTERM");
  }

  async describeTasks(taskArns: string[]): Promise<TaskView[]> {
    return taskArns.map((taskArn) => {
      const task = this.tasks.get(taskArn);
      if (task === undefined) return { taskArn, lastStatus: "MISSING", containers: [] };
      return {
        taskArn,
        lastStatus: task.lastStatus,
        ...(task.stopCode === undefined || task.lastStatus !== "STOPPED" ? {} : { stopCode: task.stopCode }),
        ...(task.stoppedReason === undefined || task.lastStatus !== "STOPPED"
          ? {}
          : { stoppedReason: task.stoppedReason }),
        ...(task.startedAtMs === undefined ? {} : { startedAtMs: task.startedAtMs }),
        containers: [
          {
            name: this.settings.containerName,
            ...(task.exitCode === undefined ? {} : { exitCode: task.exitCode }),
          },
        ],
      };
    });
  }

  /** The file a task's output goes to (undefined for a task this launcher did not start). */
  logPathOf(taskArn: string): string | undefined {
    return this.tasks.get(taskArn)?.logPath;
  }

  /** The tasks' process ids (the entrypoints), for operators and tests. */
  processes(): { taskArn: string; runId: string; attempt: number; pid?: number; lastStatus: string }[] {
    return [...this.tasks.values()].map((t) => ({
      taskArn: t.taskArn,
      runId: t.runId,
      attempt: t.attempt,
      ...(t.child.pid === undefined ? {} : { pid: t.child.pid }),
      lastStatus: t.lastStatus,
    }));
  }

  /** Stops every task still going (local mode's shutdown) and waits until they have exited. */
  async stopAll(reason: string): Promise<void> {
    this.closed = true;
    const going = [...this.tasks.values()].filter((t) => t.lastStatus !== "STOPPED");
    for (const task of going) await this.stopTask(task.taskArn, reason);
    await Promise.all(going.map((t) => t.exited));
  }

  private emit(task: LocalTask, version: number): void {
    const stopped = task.lastStatus === "STOPPED";
    this.onEvent({
      source: "aws.ecs",
      "detail-type": "ECS Task State Change",
      time: new Date().toISOString(),
      detail: {
        taskArn: task.taskArn,
        clusterArn: this.settings.clusterArn,
        lastStatus: task.lastStatus,
        desiredStatus: stopped ? "STOPPED" : "RUNNING",
        startedBy: task.token,
        version,
        ...(task.startedAtMs === undefined ? {} : { startedAt: new Date(task.startedAtMs).toISOString() }),
        ...(stopped
          ? {
              stoppedAt: new Date().toISOString(),
              ...(task.stopCode === undefined ? {} : { stopCode: task.stopCode }),
              ...(task.stoppedReason === undefined ? {} : { stoppedReason: task.stoppedReason }),
            }
          : {}),
        containers: [
          {
            name: this.settings.containerName,
            lastStatus: task.lastStatus,
            ...(task.exitCode === undefined ? {} : { exitCode: task.exitCode }),
          },
        ],
      },
    });
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0);
}
