import type { z } from "zod";
import { ConfigError } from "../core/errors.js";
import { parseGmsUrl } from "../core/gms-url.js";

/**
 * Parses a process's environment once, at cold start. Every problem is listed by the variable's name ("X is not
 * set", "Y: must be ..."), so a misconfigured deploy fails fast and says what to fix.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  env: Record<string, string | undefined>,
  what: string,
): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join(".");
    return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`${what} configuration is incomplete: ${problems.join("; ")}`);
}

/** DHX_GMS_URL through parseGmsUrl, its complaint (say, DataHub Cloud without /gms) named as configuration. */
export function gmsUrlSetting(raw: string, what: string): string {
  try {
    return parseGmsUrl(raw);
  } catch (error) {
    throw new ConfigError(`${what} configuration is wrong: DHX_GMS_URL: ${(error as Error).message}`);
  }
}
