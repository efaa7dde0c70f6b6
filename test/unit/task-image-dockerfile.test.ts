import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildEntrypoint, ENTRYPOINT_BUNDLE } from "../../task-image/build-entrypoint.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dockerfile = readFileSync(join(ROOT, "task-image", "Dockerfile"), "utf8");

type Stage = { name: string | undefined; instructions: string[] };

/** FROM-separated stages, with backslash continuations joined and comments dropped. */
function stages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const found: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from !== null) found.push({ name: from[1], instructions: [] });
    else found.at(-1)?.instructions.push(line);
  }
  return found;
}

describe("the task image's Dockerfile and the entrypoint bundle agree", () => {
  const all = stages(dockerfile);
  const build = all.find((s) => s.name === "build");
  const final = all.at(-1);

  it("builds the bundle with the project's script and copies it from the path the script writes", () => {
    expect(build?.instructions).toContain("RUN npm run build:task-image");
    const workdir = build?.instructions.find((i) => i.startsWith("WORKDIR "))?.slice("WORKDIR ".length);
    const copy = final?.instructions.find((i) => i.startsWith("COPY --from=build "))?.split(/\s+/);
    expect(copy?.[2]).toBe(posix.join(workdir ?? "", ENTRYPOINT_BUNDLE));

    const entrypoint = JSON.parse(
      final?.instructions.find((i) => i.startsWith("ENTRYPOINT "))?.slice("ENTRYPOINT ".length) ?? "[]",
    ) as string[];
    expect(entrypoint.slice(-2)).toEqual(["node", copy?.[3]]);
    const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts["build:task-image"]).toBe("tsx task-image/build-entrypoint.ts");
  });

  it("the build script writes the bundle where the Dockerfile takes it", async () => {
    const outfile = await buildEntrypoint();
    expect(outfile).toBe(join(ROOT, ENTRYPOINT_BUNDLE));
    expect(existsSync(outfile)).toBe(true);
    expect(statSync(outfile).size).toBeGreaterThan(10_000);
  });

  it("pins the same DataHub CLI as the test venv, and tells the entrypoint which version that is", () => {
    const requirements = readFileSync(join(ROOT, "test", "support", "requirements.txt"), "utf8");
    const pinned = /^acryl-datahub(?:\[[^\]]*\])?==(\S+)$/m.exec(requirements)?.[1];
    expect(pinned).toBeDefined();
    expect(final?.instructions).toContain(`ARG DATAHUB_VERSION=${pinned}`);
    const env = final?.instructions.find((i) => i.startsWith("ENV ")) ?? "";
    expect(env).toContain("DHX_DATAHUB_CLI_VERSION=${DATAHUB_VERSION}");
    expect(env).toContain("DHX_DATAHUB_CLI=/opt/datahub/bin/datahub");
  });

  it("pins its base images by version", () => {
    for (const arg of ["NODE_IMAGE", "PYTHON_IMAGE"]) {
      const value = new RegExp(`^ARG ${arg}=(\\S+)$`, "m").exec(dockerfile)?.[1] ?? "";
      expect(value, arg).toMatch(/:\d+\.\d+\.\d+-/);
    }
  });
});
