import type { SecretLookup } from "../secrets-manager/secrets-manager-secret-reader.js";
import { GmsUnavailableError, GmsUnavailableKind } from "./gms-errors.js";

/**
 * The GMS token. `fresh` skips the cache (after a 401: the token may have been rotated). Any
 * `() => Promise<string>` fits.
 */
export type TokenProvider = (options?: { fresh?: boolean }) => Promise<string>;

export const GMS_TOKEN_CACHE_MS = 5 * 60 * 1000;

/**
 * Reads the token from the secret named by its ARN and keeps it for five minutes. The secret holds the token
 * itself or JSON {"token": "..."}. Failures name the secret, never a value, and count as transient
 * (GmsUnavailableError): a write waits in the outbox while the secret is being fixed rather than being lost.
 */
export function createGmsTokenProvider(options: {
  reader: { read(secretId: string): Promise<SecretLookup> };
  secretArn: string;
  now?: () => number;
  cacheMs?: number;
}): TokenProvider {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? GMS_TOKEN_CACHE_MS;
  let cached: { token: Promise<string>; readAtMs: number } | undefined;

  const readToken = async (): Promise<string> => {
    let lookup: SecretLookup;
    try {
      lookup = await options.reader.read(options.secretArn);
    } catch (error) {
      throw unreadable(`could not be read (${(error as { awsError?: string }).awsError ?? "error"})`);
    }
    if (!lookup.found) throw unreadable("does not exist or has no value");
    return tokenFrom(lookup.value);
  };

  const unreadable = (problem: string) =>
    new GmsUnavailableError(
      GmsUnavailableKind.TOKEN_UNREADABLE,
      `the GMS token secret ${options.secretArn} ${problem}`,
    );

  const tokenFrom = (secretString: string): string => {
    const text = secretString.trim();
    if (text.startsWith("{")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw unreadable('looks like JSON but does not parse; store the token itself or {"token": "..."}');
      }
      const token = (parsed as { token?: unknown }).token;
      if (typeof token !== "string" || token.trim() === "") {
        throw unreadable('is JSON without a non-empty "token" field');
      }
      return token.trim();
    }
    if (text === "") throw unreadable("is empty");
    return text;
  };

  return async (request = {}) => {
    const at = now();
    if (request.fresh === true || cached === undefined || at - cached.readAtMs >= cacheMs) {
      // One read shared by concurrent callers; a failed read is not kept.
      const token = readToken();
      const entry = { token, readAtMs: at };
      cached = entry;
      token.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.token;
  };
}
