import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { buildGetRecipeSecret, secretIdFor } from "./secret-requests.js";

export type SecretLookup = { found: true; value: string } | { found: false };

/** A secret that exists but could not be read; names the secret and the AWS error, never a value. */
export class SecretUnreadableError extends Error {
  override readonly name = "SecretUnreadableError" as const;
  constructor(
    readonly secretName: string,
    readonly secretId: string,
    readonly awsError: string,
  ) {
    super(`secret ${secretName} could not be read from Secrets Manager (${secretId}): ${awsError}`);
  }
}

export class SecretsManagerSecretReader {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  async read(name: string): Promise<SecretLookup> {
    try {
      const answer = await this.client.send(new GetSecretValueCommand(buildGetRecipeSecret(this.prefix, name)));
      if (answer.SecretString !== undefined) return { found: true, value: answer.SecretString };
      if (answer.SecretBinary !== undefined) {
        return { found: true, value: Buffer.from(answer.SecretBinary).toString("utf8") };
      }
      return { found: false };
    } catch (error) {
      const awsName = (error as { name?: unknown }).name;
      if (awsName === "ResourceNotFoundException") return { found: false };
      // AWS error messages name the secret's id at most; they never carry a value.
      throw new SecretUnreadableError(name, secretIdFor(this.prefix, name), `${String(awsName)}`);
    }
  }
}
