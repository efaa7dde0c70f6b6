import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export const STACK_TEST_STAGE = "ci";
const root = join(import.meta.dirname, "..", "..");

declare module "vitest" {
  export interface ProvidedContext {
    /** Where `serverless package --stage ci` wrote the template and the function zips. */
    stackPackageDir: string;
    /** What it printed (bundle sizes among it). */
    stackPackageLog: string;
  }
}

/**
 * Packages the ci stage once for all stack tests, the way CI must be able to: no AWS credentials, no AWS
 * config files (an empty HOME), and — where the machine allows it — no network at all (a fresh network
 * namespace, in which nothing but loopback exists).
 */
export default function setup(project: TestProject): () => void {
  execFileSync(process.execPath, [join(root, "test/support/ensure-python-venv.mjs")], { stdio: "inherit" });
  const work = mkdtempSync(join(tmpdir(), "dhx-stack-"));
  const home = join(work, "home");
  mkdirSync(home);
  const out = join(work, "package");
  const serverless = [join(root, "node_modules/osls/bin/serverless.js"), "package", "--stage", STACK_TEST_STAGE];
  const command = withoutNetwork()
    ? ["unshare", "--net", process.execPath, ...serverless]
    : [process.execPath, ...serverless];
  const [file, ...args] = command as [string, ...string[]];
  const result = spawnSync(file, [...args, "--package", out], {
    cwd: root,
    // Only what a shell needs: no AWS_* variable, no profile, no credentials file.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, SLS_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  // osls writes its progress and notices (the bundle sizes among them) to stderr.
  const log = `${result.stdout}${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`serverless package --stage ${STACK_TEST_STAGE} failed (${result.status}):\n${log}`);
  console.log(log);
  project.provide("stackPackageDir", out);
  project.provide("stackPackageLog", log);
  return () => rmSync(work, { recursive: true, force: true });
}

/** `unshare --net` needs root or user namespaces; without them the run still has no credentials. */
function withoutNetwork(): boolean {
  try {
    execFileSync("unshare", ["--net", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
