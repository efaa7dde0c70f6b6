import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

const root = join(import.meta.dirname, "..", "..");

declare module "vitest" {
  export interface ProvidedContext {
    /** Where `serverless package --stage ci` wrote the template and the function zips. */
    stackPackageDir: string;
    /** What it printed (bundle sizes among it). */
    stackPackageLog: string;
    /** The same for the stage users copy (example.yml: a production stage with its own choices). */
    examplePackageDir: string;
  }
}

/**
 * Packages the ci and example stages once for all stack tests, the way CI must be able to: no AWS
 * credentials, no AWS config files (an empty HOME), and — where the machine allows it — no network at all
 * (a fresh network namespace, in which nothing but loopback exists).
 */
export default function setup(project: TestProject): () => void {
  execFileSync(process.execPath, [join(root, "test/support/ensure-python-venv.mjs")], { stdio: "inherit" });
  const work = mkdtempSync(join(tmpdir(), "dhx-stack-"));
  const isolated = canIsolateNetwork();
  console.log(`packaging offline: no AWS credentials, empty HOME${isolated ? ", no network (unshare --net)" : ""}`);
  const ci = packageStage("ci", work, isolated);
  console.log(ci.log);
  project.provide("stackPackageDir", ci.dir);
  project.provide("stackPackageLog", ci.log);
  project.provide("examplePackageDir", packageStage("example", work, isolated).dir);
  return () => rmSync(work, { recursive: true, force: true });
}

function packageStage(stage: string, work: string, isolated: boolean): { dir: string; log: string } {
  const home = join(work, `home-${stage}`);
  mkdirSync(home);
  const dir = join(work, stage);
  const serverless = [join(root, "node_modules/osls/bin/serverless.js"), "package", "--stage", stage, "--package", dir];
  const [file, ...args] = (
    isolated ? ["unshare", "--net", process.execPath, ...serverless] : [process.execPath, ...serverless]
  ) as [string, ...string[]];
  const result = spawnSync(file, args, {
    cwd: root,
    // Only what a shell needs: no AWS_* variable, no profile, no credentials file.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, SLS_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  // osls writes its progress and notices (the bundle sizes among them) to stderr.
  const log = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`serverless package --stage ${stage} failed (${result.status}):\n${log}`);
  return { dir, log };
}

/** `unshare --net` needs root or user namespaces; without them the run still has no credentials. */
function canIsolateNetwork(): boolean {
  try {
    execFileSync("unshare", ["--net", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
