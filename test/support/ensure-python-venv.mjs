#!/usr/bin/env node
// Creates (or refreshes) the project-local Python venvs with their pinned requirements.
// Idempotent and quick when nothing changed: a stamp file in each venv records the hash of its requirements.
//   .venv       test/support/requirements.txt        moto (the local AWS) and the DataHub CLI
//   .venv-cfn   test/support/requirements-cfn.txt    template checkers (cfn-lint, checkov), kept apart for their pins
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const python = process.env.PYTHON ?? "python3";
const venvs = [
  { dir: ".venv", requirements: "test/support/requirements.txt" },
  { dir: ".venv-cfn", requirements: "test/support/requirements-cfn.txt" },
];

// `--only .venv` makes just that one (local mode and the demo need no template checkers).
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;

checkPython();
// The venvs are independent: install them side by side (most of the time is waiting on PyPI).
await Promise.all(
  venvs
    .filter(({ dir, requirements }) => (only === undefined || dir === only) && existsSync(join(root, requirements)))
    .map(({ dir, requirements }) => ensureVenv(join(root, dir), join(root, requirements))),
);

function checkPython() {
  const version = execFileSync(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).toString().trim();
  const [major, minor] = version.split(".").map(Number);
  if (major < 3 || (major === 3 && minor < 10)) {
    console.error(`Python >= 3.10 is needed (moto, the DataHub CLI); ${python} is ${version}. Set PYTHON to another.`);
    process.exit(1);
  }
}

async function ensureVenv(venv, requirements) {
  const stamp = join(venv, ".requirements-hash");
  const wanted = createHash("sha256").update(readFileSync(requirements)).digest("hex");
  if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) return;
  if (!existsSync(join(venv, "bin", "python"))) {
    console.log(`creating the Python venv ${venv}`);
    execFileSync(python, ["-m", "venv", venv], { stdio: "inherit" });
  }
  console.log(`installing ${requirements} into ${venv}`);
  try {
    await promisify(execFile)(
      join(venv, "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", "-r", requirements],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
  } catch (error) {
    console.error(`pip could not install ${requirements} into ${venv}:\n${error.stderr ?? error.message}`);
    process.exit(1);
  }
  writeFileSync(stamp, `${wanted}\n`);
}
