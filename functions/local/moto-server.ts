import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type MotoServer = { endpoint: string; reset(): Promise<void>; stop(): Promise<void> };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VENV_PYTHON = join(ROOT, ".venv", "bin", "python");
const SERIALIZED_SERVER = join(ROOT, "functions", "local", "serve_moto_serialized.py");

/**
 * moto on 127.0.0.1 at a free port, from the project's venv (created by test/support/ensure-python-venv.mjs).
 * It is moto's own WSGI app, served one request at a time (serve_moto_serialized.py says why).
 */
export async function startMotoServer(options: { ownProcessGroup?: boolean } = {}): Promise<MotoServer> {
  if (!existsSync(VENV_PYTHON)) {
    throw new Error(`${VENV_PYTHON} is missing: run "npm run setup:python" to create the project's Python venv`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(VENV_PYTHON, [SERIALIZED_SERVER, "127.0.0.1", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ACCOUNT_ID: "123456789012" },
    // Local mode's moto must outlive a terminal's Ctrl-C (sent to the whole group) until the runs are stopped.
    detached: options.ownProcessGroup === true,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await waitUntilReady(endpoint, child, () => stderr);
  return {
    endpoint,
    reset: async () => {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
    },
    stop: () => stopProcess(child),
  };
}

/** moto moves a task's status on every DescribeTasks unless told not to; pin tasks until StopTask. */
export async function pinEcsTaskStatus(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({ model_name: "ecs::task", transition: { progression: "manual", times: 1_000_000 } }),
  });
  if (!response.ok) throw new Error(`moto set-transition answered ${response.status}`);
}

async function waitUntilReady(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`moto did not answer on ${endpoint} within 30 s: ${stderr()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
