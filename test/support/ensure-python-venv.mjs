#!/usr/bin/env node
// Creates (or refreshes) the project-local Python venv in .venv with the pinned requirements.
// Idempotent and quick when nothing changed: a stamp file records the hash of the requirements.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const venv = join(root, ".venv");
const requirementFiles = [join(root, "test", "support", "requirements.txt")];
const stamp = join(venv, ".requirements-hash");
const python = process.env.PYTHON ?? "python3";

const hash = createHash("sha256");
for (const file of requirementFiles) hash.update(readFileSync(file));
const wanted = hash.digest("hex");

if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted) process.exit(0);

const version = execFileSync(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).toString().trim();
const [major, minor] = version.split(".").map(Number);
if (major < 3 || (major === 3 && minor < 10)) {
  console.error(`Python >= 3.10 is needed for the local AWS (moto); ${python} is ${version}. Set PYTHON to another.`);
  process.exit(1);
}
if (!existsSync(join(venv, "bin", "python"))) {
  console.log(`creating the Python venv in ${venv}`);
  execFileSync(python, ["-m", "venv", venv], { stdio: "inherit" });
}
const pip = join(venv, "bin", "pip");
console.log("installing the pinned Python requirements (moto) into .venv");
execFileSync(
  pip,
  ["install", "--quiet", "--disable-pip-version-check", ...requirementFiles.flatMap((f) => ["-r", f])],
  {
    stdio: "inherit",
  },
);
writeFileSync(stamp, `${wanted}\n`);
