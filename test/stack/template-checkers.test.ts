import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { templatePath } from "./packaged-template.js";

const root = join(import.meta.dirname, "..", "..");
const bin = (name: string) => join(root, ".venv-cfn", "bin", name);

/** The framework adds DependsOn on each function's role although Role's GetAtt already orders them. */
const CFN_LINT_IGNORED = ["W3005"];

type Accepted = Record<string, { title: string; resources: string[]; reason: string }>;
const accepted = parseYaml(readFileSync(join(import.meta.dirname, "checkov-accepted.yml"), "utf8")) as Accepted;

const STAGES = ["ci", "example"] as const;

describe.each(STAGES)("cfn-lint on the %s stage's template", (stage) => {
  it("finds no error and no warning", () => {
    const output = run(bin("cfn-lint"), [
      "--format",
      "json",
      "--ignore-checks",
      ...CFN_LINT_IGNORED,
      "--",
      templatePath(stage),
    ]);
    const findings = JSON.parse(output || "[]") as { Level: string; Rule: { Id: string }; Message: string }[];
    expect(findings.map((f) => `${f.Level} ${f.Rule.Id}: ${f.Message}`)).toEqual([]);
  });
});

type CheckovReport = {
  summary: { passed: number; failed: number; parsing_errors: number };
  results: { failed_checks: { check_id: string; resource: string; check_name: string }[] };
};

describe("checkov", () => {
  const reports = Object.fromEntries(
    STAGES.map((stage) => [
      stage,
      JSON.parse(
        run(bin("checkov"), [
          "--file",
          templatePath(stage),
          "--framework",
          "cloudformation",
          "--output",
          "json",
          "--quiet",
          "--compact",
        ]),
      ) as CheckovReport,
    ]),
  ) as Record<(typeof STAGES)[number], CheckovReport>;
  const failedIn = (stage: (typeof STAGES)[number]) =>
    reports[stage].results.failed_checks.map((c) => `${c.check_id} ${c.resource}`).sort();
  const acceptedFailures = Object.entries(accepted)
    .flatMap(([id, entry]) => entry.resources.map((resource) => `${id} ${resource}`))
    .sort();

  it.each(STAGES)("%s: parsed the template and ran its checks", (stage) => {
    expect(reports[stage].summary.parsing_errors).toBe(0);
    expect(reports[stage].summary.passed).toBeGreaterThan(50);
  });

  it.each(STAGES)("%s: every failed check is an accepted exception with its reason", (stage) => {
    expect(failedIn(stage).filter((f) => !acceptedFailures.includes(f))).toEqual([]);
  });

  it("every accepted exception still fails somewhere (no stale entries)", () => {
    const failed = new Set(STAGES.flatMap(failedIn));
    expect(acceptedFailures.filter((a) => !failed.has(a))).toEqual([]);
  });

  it("every accepted exception has a reason and is written down in docs/deploy.md", () => {
    const deployDoc = readFileSync(join(root, "docs", "deploy.md"), "utf8");
    for (const [id, entry] of Object.entries(accepted)) {
      expect(entry.reason.length, id).toBeGreaterThan(40);
      expect(deployDoc, `docs/deploy.md lists ${id}`).toContain(id);
    }
  });
});

/** checkov exits 1 when a check fails; the findings are in its JSON either way. */
function run(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr, status } = error as { stdout?: string; stderr?: string; status?: number };
    if (status === 1 && stdout) return stdout;
    // cfn-lint: 2 error, 4 warning, 8 informational (bit flags); its JSON on stdout says which.
    if (file.endsWith("cfn-lint") && stdout !== undefined && status !== undefined && status > 0 && status < 16)
      return stdout;
    throw new Error(`${file} failed (exit ${status}): ${stderr ?? ""}`);
  }
}
