import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Local mode keeps its files here (git ignores .local/); DHX_LOCAL_DIR moves it. */
export function localModeDir(env: Record<string, string | undefined>): string {
  const dir = env.DHX_LOCAL_DIR;
  return dir !== undefined && dir !== "" ? dir : join(PROJECT_ROOT, ".local", "local-mode");
}

/** What a running local mode tells the CLI: where its AWS is and what its resources are called. */
export const LocalModeState = z.object({
  pid: z.number().int(),
  startedAt: z.string(),
  stage: z.string(),
  endpoint: z.string().url(),
  region: z.string(),
  tableName: z.string(),
  intakeQueueUrl: z.string(),
  deadLetterQueueUrl: z.string(),
  clusterArn: z.string(),
  /** undefined when statuses go to a GMS (DATAHUB_GMS_URL). */
  statusLogPath: z.string().optional(),
  gmsUrl: z.string().optional(),
  logDir: z.string(),
});
export type LocalModeState = z.infer<typeof LocalModeState>;

export function stateFilePath(dir: string): string {
  return join(dir, "local-mode.json");
}

export function writeLocalModeState(dir: string, state: LocalModeState): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(stateFilePath(dir), `${JSON.stringify(state, null, 2)}\n`);
}

export function removeLocalModeState(dir: string, pid: number): void {
  // Only our own: a second local mode may have started since.
  const state = readLocalModeState(dir);
  if (state?.pid === pid) rmSync(stateFilePath(dir), { force: true });
}

/** undefined when no local mode has left its state here. */
export function readLocalModeState(dir: string): LocalModeState | undefined {
  const path = stateFilePath(dir);
  if (!existsSync(path)) return undefined;
  const parsed = LocalModeState.safeParse(JSON.parse(readFileSync(path, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

/** Local credentials: moto takes any. */
export const LOCAL_AWS_ENV = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
} as const;

/** Whether a process exists (EPERM: it does, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
