import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import type { CancelSignal } from "./cancel-signal.js";
import { MEMORY_FAILURE_PATTERN } from "./classify-exit.js";
import type { SecretMasker } from "./mask-secrets.js";
import type { OutputTail } from "./output-tail.js";

export type IngestionCommand = {
  executable: string;
  args: string[];
  env: Record<string, string>;
  stdin: string;
  /** Applied with RLIMIT_AS (prlimit) to the CLI and everything it starts. */
  memoryLimitBytes: number;
  graceMs: number;
};

export type IngestionOutput = { stdout: Writable; stderr: Writable; masker: SecretMasker; tail: OutputTail };

export type ProcessEnd = {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  cancelled: boolean;
  killedAfterGrace: boolean;
  memoryErrorSeen: boolean;
  pgid: number | undefined;
};

/** The limiter: util-linux prlimit sets RLIMIT_AS and execs the CLI, so the limit holds from its first byte. */
export const PRLIMIT = "prlimit";

/**
 * Runs the CLI in its own process group (a new session: `detached`), recipe on stdin, output masked and
 * streamed. On cancel the whole group gets SIGTERM, then SIGKILL after the grace period. When the CLI
 * ends, whatever is left of its group is killed too, so nothing outlives the run.
 */
export function runIngestion(command: IngestionCommand, output: IngestionOutput, cancel: CancelSignal) {
  return new Promise<ProcessEnd>((resolve, reject) => {
    const child = spawn(PRLIMIT, [`--as=${command.memoryLimitBytes}`, "--", command.executable, ...command.args], {
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: command.env,
    });
    const pgid = child.pid;
    let memoryErrorSeen = false;
    let killedAfterGrace = false;
    let cancelled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

    const signalGroup = (signal: NodeJS.Signals) => {
      if (pgid === undefined) return;
      try {
        process.kill(-pgid, signal);
      } catch {
        // ESRCH: the group is already gone.
      }
    };

    const pipe = (stream: NodeJS.ReadableStream, sink: Writable) => {
      const masked = output.masker.createStream();
      stream.setEncoding("utf8");
      const emit = (text: string) => {
        if (text === "") return;
        if (MEMORY_FAILURE_PATTERN.test(text)) memoryErrorSeen = true;
        sink.write(text);
        output.tail.append(text);
      };
      stream.on("data", (chunk: string) => emit(masked.push(chunk)));
      stream.on("end", () => emit(masked.end()));
    };
    if (child.stdout !== null) pipe(child.stdout, output.stdout);
    if (child.stderr !== null) pipe(child.stderr, output.stderr);

    const detachCancel = cancel.onRequest(() => {
      if (exit !== undefined) return;
      cancelled = true;
      signalGroup("SIGTERM");
      graceTimer = setTimeout(() => {
        killedAfterGrace = true;
        signalGroup("SIGKILL");
      }, command.graceMs);
    });

    child.stdin?.on("error", () => {
      // EPIPE: the CLI ended before reading its recipe; its exit code tells why.
    });
    child.stdin?.end(command.stdin);

    child.once("error", (error) => {
      detachCancel();
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      detachCancel();
      // The CLI is gone; anything it started in its group goes with it.
      signalGroup("SIGKILL");
    });
    // "close" comes after both pipes ended, so every byte of output is in the tail by then.
    child.once("close", () => {
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        cancelled,
        killedAfterGrace,
        memoryErrorSeen,
        pgid,
      });
    });
  });
}
