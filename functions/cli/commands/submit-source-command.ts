import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GmsIntakeClient } from "../../adapters/gms/gms-intake-client.js";
import { createGmsTokenProvider, type TokenProvider } from "../../adapters/gms/gms-token-provider.js";
import { SecretsManagerSecretReader } from "../../adapters/secrets-manager/secrets-manager-secret-reader.js";
import { InvalidIngestionSourceUrnError, submitIngestionSource } from "../../app/submit-ingestion-source.js";
import { GmsConfigError, parseGmsUrl } from "../../core/gms-url.js";
import { runIdFor } from "../../core/plan-run.js";
import { UsageError } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";

/**
 * "Run this ingestion source now" through GMS, as DataHub's UI does: GMS creates the execution request with the
 * source's recipe, and the stage's intake picks it up on its next poll. The GMS: DATAHUB_GMS_URL (token
 * DATAHUB_GMS_TOKEN), else the stage's settings (token from its Secrets Manager secret), else local mode's.
 */
export async function submitSourceCommand(
  target: CliTarget,
  ingestionSourceUrn: string,
  env: Record<string, string | undefined>,
): Promise<{ executionRequestUrn: string; runId: string; gmsUrl: string }> {
  const rawUrl = nonEmpty(env.DATAHUB_GMS_URL) ?? target.gms?.url ?? target.local?.gmsUrl;
  if (rawUrl === undefined) {
    throw new UsageError(
      "submit --source needs a GMS: set DATAHUB_GMS_URL and DATAHUB_GMS_TOKEN, or use a stage (its settings name one)",
    );
  }
  let gmsUrl: string;
  try {
    gmsUrl = parseGmsUrl(rawUrl);
  } catch (error) {
    if (error instanceof GmsConfigError) throw new UsageError(`GMS URL ${rawUrl}: ${error.message}`);
    throw error;
  }
  const client = new GmsIntakeClient({ gmsUrl, token: tokenFor(target, env) });
  try {
    const { executionRequestUrn } = await submitIngestionSource(client, ingestionSourceUrn);
    return { executionRequestUrn, runId: runIdFor(executionRequestUrn), gmsUrl };
  } catch (error) {
    if (error instanceof InvalidIngestionSourceUrnError) throw new UsageError(error.message);
    throw error;
  }
}

function tokenFor(target: CliTarget, env: Record<string, string | undefined>): TokenProvider {
  const token = nonEmpty(env.DATAHUB_GMS_TOKEN);
  if (token !== undefined) return async () => token;
  if (target.gms !== undefined && nonEmpty(env.DATAHUB_GMS_URL) === undefined) {
    const reader = new SecretsManagerSecretReader(new SecretsManagerClient({ region: target.gms.region }), "");
    return createGmsTokenProvider({ reader, secretArn: target.gms.tokenSecretArn });
  }
  throw new UsageError("submit --source: DATAHUB_GMS_TOKEN is not set (the token for the GMS it calls)");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
