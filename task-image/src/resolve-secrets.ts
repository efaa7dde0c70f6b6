import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { SecretLookup } from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";

export const SecretSource = {
  ENVIRONMENT: "environment",
  FILE: "file",
  SECRETS_MANAGER: "secrets-manager",
} as const;
export type SecretSource = (typeof SecretSource)[keyof typeof SecretSource];

export type SecretSources = {
  environment: Record<string, string | undefined>;
  fileBaseDir: string;
  fileMaxBytes: number;
  secretsManager: { read(name: string): Promise<SecretLookup> };
  secretPrefix: string;
};

export type ResolvedSecrets = {
  values: Map<string, string>;
  /** Where each name was found: logged (names and sources only) so an operator can see the order at work. */
  sources: Map<string, SecretSource>;
  /** One sentence per name that could not be resolved; each names the secret, never a value. */
  problems: string[];
};

/**
 * Resolves each `${NAME}` of a recipe, first source wins: the container's environment (ECS injects the
 * stage's deploy-time secrets there), then a file <baseDir>/<NAME>, then Secrets Manager as <prefix><NAME>,
 * read now so a rotated value is used by the next run. An empty value counts as absent at its source.
 * Every name is tried: one unreadable secret never hides the others, and all problems are reported.
 */
export async function resolveSecrets(names: readonly string[], sources: SecretSources): Promise<ResolvedSecrets> {
  const values = new Map<string, string>();
  const found = new Map<string, SecretSource>();
  const problems: string[] = [];
  const remaining: string[] = [];

  for (const name of names) {
    const fromEnv = sources.environment[name];
    if (fromEnv !== undefined && fromEnv !== "") {
      values.set(name, fromEnv);
      found.set(name, SecretSource.ENVIRONMENT);
      continue;
    }
    const fromFile = await readSecretFile(sources, name);
    if (fromFile.kind === "value") {
      values.set(name, fromFile.value);
      found.set(name, SecretSource.FILE);
    } else if (fromFile.kind === "refused") {
      problems.push(fromFile.problem);
    } else {
      remaining.push(name);
    }
  }

  const lookups = await Promise.allSettled(remaining.map((name) => sources.secretsManager.read(name)));
  remaining.forEach((name, i) => {
    const lookup = lookups[i];
    if (lookup?.status === "rejected") {
      problems.push(lookup.reason instanceof Error ? lookup.reason.message : `secret ${name} could not be read`);
    } else if (lookup?.status === "fulfilled" && lookup.value.found && lookup.value.value !== "") {
      values.set(name, lookup.value.value);
      found.set(name, SecretSource.SECRETS_MANAGER);
    } else {
      problems.push(
        `secret ${name} is referenced by the recipe but was found nowhere: not in the task's environment, ` +
          `not as the file ${join(sources.fileBaseDir, name)}, not in Secrets Manager as ${sources.secretPrefix}${name}`,
      );
    }
  });
  return { values, sources: found, problems };
}

type FileLookup = { kind: "value"; value: string } | { kind: "absent" } | { kind: "refused"; problem: string };

async function readSecretFile(sources: SecretSources, name: string): Promise<FileLookup> {
  const path = join(sources.fileBaseDir, name);
  let size: number;
  try {
    // stat follows symlinks, as mounted secret volumes use them.
    const info = await stat(path);
    if (!info.isFile()) return { kind: "absent" };
    size = info.size;
  } catch (error) {
    if (isCode(error, "ENOENT") || isCode(error, "ENOTDIR")) return { kind: "absent" };
    return { kind: "refused", problem: `secret file ${path} could not be read (${codeOf(error)})` };
  }
  if (size > sources.fileMaxBytes) {
    return {
      kind: "refused",
      problem:
        `secret file ${path} is ${size} bytes, over the limit of ${sources.fileMaxBytes} bytes ` +
        "(DATAHUB_EXECUTOR_FILE_SECRET_MAXLEN)",
    };
  }
  try {
    // Trailing whitespace (the newline an editor or `echo` adds) is not part of the secret, as in DataHub.
    const value = (await readFile(path, "utf8")).trimEnd();
    return value === "" ? { kind: "absent" } : { kind: "value", value };
  } catch (error) {
    return { kind: "refused", problem: `secret file ${path} could not be read (${codeOf(error)})` };
  }
}

function isCode(error: unknown, code: string): boolean {
  return (error as { code?: unknown }).code === code;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : "unknown error";
}
