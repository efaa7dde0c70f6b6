import { spawn } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { CancelSignal } from "./cancel-signal.js";
import type { OutputTail } from "./output-tail.js";

export type InstallPlan = { venvDir: string; requirement: string; version: string };

/**
 * Installs the asked CLI into its own venv under the cache directory, marking it complete only when pip
 * succeeded, so a half-made venv is never reused. Output goes to the log like the run's (it holds no secret:
 * secrets are resolved, never passed to pip). A cancel kills the step at once: an unfinished venv is unmarked.
 */
export async function installCli(
  plan: InstallPlan,
  python: string,
  output: { stdout: Writable; tail: OutputTail },
  cancel: CancelSignal,
): Promise<{ ok: true } | { ok: false; problem: string }> {
  await rm(plan.venvDir, { recursive: true, force: true });
  const steps: [string, string[]][] = [
    [python, ["-m", "venv", plan.venvDir]],
    [
      join(plan.venvDir, "bin", "pip"),
      ["install", "--disable-pip-version-check", "--no-input", "--quiet", plan.requirement],
    ],
  ];
  for (const [command, args] of steps) {
    const code = await runStep(command, args, output, cancel);
    if (cancel.requested) return { ok: false, problem: "cancelled while the CLI was being installed" };
    if (code !== 0) {
      return {
        ok: false,
        problem: `installing DataHub CLI ${plan.version} (${plan.requirement}) failed: ${command} exited with ${code}`,
      };
    }
  }
  await writeFile(join(plan.venvDir, ".dhx-installed"), `${plan.requirement}\n`);
  return { ok: true };
}

function runStep(
  command: string,
  args: string[],
  output: { stdout: Writable; tail: OutputTail },
  cancel: CancelSignal,
) {
  return new Promise<number | string>((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const detach = cancel.onRequest(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    });
    const forward = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      output.stdout.write(text);
      output.tail.append(text);
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.once("error", (error) => {
      detach();
      resolve(error.message);
    });
    child.once("close", (code, signal) => {
      detach();
      resolve(code ?? String(signal));
    });
  });
}
