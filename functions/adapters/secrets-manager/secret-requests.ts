import type { GetSecretValueCommandInput } from "@aws-sdk/client-secrets-manager";

/**
 * Recipe secrets live in Secrets Manager as <prefix><NAME>, the prefix being the stage's
 * (e.g. "datahub-executor/prod/"); the task role may read nothing else.
 */
export function secretIdFor(prefix: string, name: string): string {
  return `${prefix}${name}`;
}

/** Always the current version (AWSCURRENT), read at each run: a rotated value is used by the next run. */
export function buildGetRecipeSecret(prefix: string, name: string): GetSecretValueCommandInput {
  return { SecretId: secretIdFor(prefix, name) };
}
