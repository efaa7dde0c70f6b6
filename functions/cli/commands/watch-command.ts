import { existsSync } from "node:fs";
import { isTerminal, RunState } from "../../core/run-record.js";
import { tailOfFile } from "../../local/local-run-logs.js";
import { localLogPath } from "../../local/local-task-launcher.js";
import type { Output } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";
import { formatStatus, type RunRow, readStatus } from "./status-command.js";

export type WatchOptions = {
  intervalMs: number;
  /** Return once no run is waiting or going (scripts and tests); otherwise until `signal` aborts. */
  untilIdle: boolean;
  json: boolean;
  /** A terminal: redraw in place. */
  redraw: boolean;
  signal?: AbortSignal;
};

/**
 * A live view of pools and runs: one frame per interval. With --json, one JSON line per frame (the same shape as
 * `status --json`), so a script sees every poll.
 */
export async function watchCommand(target: CliTarget, out: Output, options: WatchOptions): Promise<void> {
  for (;;) {
    const snapshot = await readStatus(target);
    if (options.json) out.write(`${JSON.stringify(snapshot)}\n`);
    else {
      const frame = formatStatus(snapshot, (row) => progressOf(target, row));
      out.write(
        `${options.redraw ? "\x1b[2J\x1b[H" : ""}${new Date(snapshot.atMs).toISOString()}  ${target.label}\n${frame}\n\n`,
      );
    }
    const idle = snapshot.runs.every((r) => isTerminal(r.state));
    if (options.untilIdle && idle) return;
    if (options.signal?.aborted === true) return;
    await sleep(options.intervalMs, options.signal);
  }
}

/** While a run goes: its last log line locally (the CLI's progress), else nothing beyond the ran column. */
function progressOf(target: CliTarget, row: RunRow): string | undefined {
  if (row.state !== RunState.RUNNING && row.state !== RunState.LAUNCHED) return undefined;
  const logDir = target.local?.logDir;
  if (logDir === undefined) return undefined;
  const path = localLogPath(logDir, row.runId, row.launchAttempt);
  if (!existsSync(path)) return undefined;
  const last = tailOfFile(path, 1);
  return last === undefined ? undefined : `… ${last.slice(0, 80)}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
