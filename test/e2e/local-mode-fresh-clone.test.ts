import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import type { StatusSnapshot } from "../../functions/cli/commands/status-command.js";
import { livingProcessesInGroup, ROOT } from "./task-image-harness.js";

/**
 * A fresh clone runs the README's main command. To stay fast it reuses this tree's node_modules and Python venvs
 * through symlinks instead of `npm ci` and pip (the part of the README line before `&&`); everything after is the
 * README's own command, run as a user would, in its own process group like a terminal's foreground job.
 */
it("on a fresh clone, the README's main command brings local mode up with the sample, dhx status shows it, Ctrl-C stops everything", async () => {
  const clone = join(mkdtempSync(join(tmpdir(), "dhx-clone-")), "repo");
  execFileSync("git", ["clone", "--quiet", ROOT, clone]);
  for (const shared of ["node_modules", ".venv", ".venv-cfn"]) {
    if (existsSync(join(ROOT, shared))) symlinkSync(join(ROOT, shared), join(clone, shared));
  }

  const readme = readFileSync(join(clone, "README.md"), "utf8");
  const mainLine = /^npm ci && (npm start)\s+#/m.exec(readme);
  expect(mainLine).not.toBeNull();
  const [command, ...args] = (mainLine?.[1] ?? "").split(" ");

  const env = { ...process.env };
  // The test project's own moto and local-mode settings must not leak into the user's command.
  delete env.AWS_ENDPOINT_URL;
  delete env.DHX_LOCAL_DIR;
  delete env.DHX_TABLE_NAME;
  const child = spawn(command ?? "npm", args, { cwd: clone, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const pgid = child.pid ?? 0;
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  try {
    await poll("local mode to say where to look", () =>
      stdout.includes("Ctrl-C stops local mode") ? true : child.exitCode !== null ? fail(stdout + stderr) : undefined,
    );
    expect(stdout).toMatch(/local mode is up: stage local, moto at http:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(
      /submitted the sample recipe \(functions\/local\/sample\/sample-recipe\.yml\): run [0-9a-f]{24}/,
    );
    expect(stdout).toMatch(/npm run dhx -- status/);
    expect(stdout).toMatch(/what DataHub would be told: \.local\/local-mode\/status-log\.jsonl/);

    // Until the sample's final status is written (read from the file: polling with dhx would only slow the run).
    const statusLog = join(clone, ".local", "local-mode", "status-log.jsonl");
    await poll("the sample's final status", () =>
      existsSync(statusLog) && /"status":"(SUCCESS|FAILURE|CANCELLED)"/.test(readFileSync(statusLog, "utf8"))
        ? true
        : undefined,
    );
    // The bin, as a script would use it.
    const bin = join(clone, "functions", "cli", "dhx.mjs");
    const snapshot = JSON.parse(
      execFileSync(process.execPath, [bin, "--json", "status"], { cwd: clone, env }).toString(),
    ) as StatusSnapshot;
    expect(snapshot.runs.map((r) => r.state)).toEqual(["SUCCESS"]);
    expect(snapshot.runs).toHaveLength(1);

    // The README's follow-up command.
    const text = execFileSync("npm", ["run", "--silent", "dhx", "--", "status"], { cwd: clone, env }).toString();
    expect(text).toMatch(/^pool local \(default\): 0 of 1 in use by 0 runs$/m);
    expect(text).toMatch(/[0-9a-f]{12} +local +SUCCESS +0\.25 +0\.5 vCPU\/4096 MiB .* ingestion succeeded$/m);
  } finally {
    // What a terminal's Ctrl-C does: SIGINT to the whole foreground group.
    if (child.exitCode === null) process.kill(-pgid, "SIGINT");
    await exited;
  }
  expect(stdout).toMatch(/local mode stopped\n$/);
  expect(existsSync(join(clone, ".local", "local-mode", "local-mode.json"))).toBe(false);
  expect(livingProcessesInGroup(pgid)).toEqual([]);
});

function fail(output: string): never {
  throw new Error(`npm start ended early:\n${output}`);
}

async function poll<T>(what: string, probe: () => T | undefined, timeoutMs = 150_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
