import { appendFileSync } from "node:fs";
import type { DataHubStatusApi, ExecutorStatusReport } from "../../app/ports.js";
import type { ExecutionResultValue } from "../../core/execution-result.js";

export type StatusLogLine =
  | { atMs: number; kind: "execution-result"; executionRequestUrn: string; value: ExecutionResultValue }
  | { atMs: number; kind: "executor-status"; stage: string; poolId: string; status: ExecutorStatusReport };

/**
 * Where statuses go when there is no GMS (local mode, the demo): kept in memory and, given a path, appended to a
 * JSON-lines file that the CLI can read. It answers like GMS for what the executor reads back.
 */
export class LocalStatusLog implements DataHubStatusApi {
  readonly lines: StatusLogLine[] = [];
  private readonly kills = new Map<string, number>();

  constructor(
    private readonly path?: string,
    private readonly now: () => number = Date.now,
  ) {}

  async writeExecutionResult(executionRequestUrn: string, value: ExecutionResultValue): Promise<void> {
    this.append({ atMs: this.now(), kind: "execution-result", executionRequestUrn, value });
  }

  async readExecutionResult(executionRequestUrn: string): Promise<ExecutionResultValue | undefined> {
    const last = this.lines.findLast(
      (l) => l.kind === "execution-result" && l.executionRequestUrn === executionRequestUrn,
    );
    return last?.kind === "execution-result" ? last.value : undefined;
  }

  async readKillSignal(executionRequestUrn: string): Promise<{ signal: string; createdAtMs?: number } | undefined> {
    const at = this.kills.get(executionRequestUrn);
    return at === undefined ? undefined : { signal: "KILL", createdAtMs: at };
  }

  async writeExecutorStatus(stage: string, poolId: string, status: ExecutorStatusReport): Promise<void> {
    this.append({ atMs: this.now(), kind: "executor-status", stage, poolId, status });
  }

  /** What DataHub's "Cancel" button would do. */
  kill(executionRequestUrn: string): void {
    this.kills.set(executionRequestUrn, this.now());
  }

  private append(line: StatusLogLine): void {
    this.lines.push(line);
    if (this.path !== undefined) appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}
