import { existsSync, readFileSync } from "node:fs";
import type { RunLogs } from "../app/ports.js";

/** The part of a log CloudWatch would give back for a run: its last lines (GetLogEvents' limit). */
export const TAIL_LINES = 200;

/** RunLogs for local mode: a task's output file instead of its CloudWatch stream. */
export class LocalRunLogs implements RunLogs {
  constructor(private readonly launcher: { logPathOf(taskArn: string): string | undefined }) {}

  async tail(taskArn: string): Promise<string | undefined> {
    const path = this.launcher.logPathOf(taskArn);
    if (path === undefined || !existsSync(path)) return undefined;
    return tailOfFile(path, TAIL_LINES);
  }
}

export function tailOfFile(path: string, lines: number): string | undefined {
  const text = readFileSync(path, "utf8").trimEnd();
  if (text === "") return undefined;
  return text.split("\n").slice(-lines).join("\n");
}
