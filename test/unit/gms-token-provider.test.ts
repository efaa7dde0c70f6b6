import { describe, expect, it } from "vitest";
import { GmsUnavailableError } from "../../functions/adapters/gms/gms-errors.js";
import { createGmsTokenProvider } from "../../functions/adapters/gms/gms-token-provider.js";
import {
  type SecretLookup,
  SecretUnreadableError,
} from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dhx/gms-token-AbCdEf";

/** Our own reader port (Secrets Manager itself is exercised against moto in the integration test). */
function readerOf(values: Array<SecretLookup | Error>) {
  const reads: string[] = [];
  return {
    reads,
    read: async (id: string): Promise<SecretLookup> => {
      reads.push(id);
      const next = values[Math.min(reads.length - 1, values.length - 1)];
      if (next instanceof Error) throw next;
      if (next === undefined) throw new Error("no value");
      return next;
    },
  };
}

describe("createGmsTokenProvider", () => {
  it("reads the secret by its ARN once per five minutes", async () => {
    let now = 1_000_000;
    const reader = readerOf([
      { found: true, value: "first" },
      { found: true, value: "second" },
    ]);
    const token = createGmsTokenProvider({ reader, secretArn: ARN, now: () => now });
    expect(await token()).toBe("first");
    now += 5 * 60 * 1000 - 1;
    expect(await token()).toBe("first");
    expect(reader.reads).toEqual([ARN]);
    now += 1;
    expect(await token()).toBe("second");
    expect(reader.reads).toEqual([ARN, ARN]);
  });

  it("fresh skips the cache (a rotated token after a 401)", async () => {
    const reader = readerOf([
      { found: true, value: "old" },
      { found: true, value: "new" },
    ]);
    const token = createGmsTokenProvider({ reader, secretArn: ARN, now: () => 0 });
    expect(await token()).toBe("old");
    expect(await token({ fresh: true })).toBe("new");
    expect(await token()).toBe("new");
    expect(reader.reads).toHaveLength(2);
  });

  it("concurrent callers share one read", async () => {
    const reader = readerOf([{ found: true, value: "t" }]);
    const token = createGmsTokenProvider({ reader, secretArn: ARN, now: () => 0 });
    expect(await Promise.all([token(), token(), token()])).toEqual(["t", "t", "t"]);
    expect(reader.reads).toHaveLength(1);
  });

  it.each([
    ["  plain-token\n", "plain-token"],
    ['{"token": "from-json"}', "from-json"],
    ['{"token": " spaced ", "other": 1}', "spaced"],
  ])("takes the token from %j", async (secretString, expected) => {
    const token = createGmsTokenProvider({ reader: readerOf([{ found: true, value: secretString }]), secretArn: ARN });
    expect(await token()).toBe(expected);
  });

  it.each([
    [{ found: false } as SecretLookup, /dhx\/gms-token-AbCdEf does not exist or has no value/],
    [{ found: true, value: "" } as SecretLookup, /is empty/],
    [{ found: true, value: '{"tok": "secret-value-xyz"}' } as SecretLookup, /JSON without a non-empty "token" field/],
    [{ found: true, value: '{"token": secret-value-xyz' } as SecretLookup, /looks like JSON but does not parse/],
    [new SecretUnreadableError(ARN, ARN, "AccessDeniedException"), /could not be read \(AccessDeniedException\)/],
  ])("fails transiently, naming the secret and never a value: %j", async (lookup, message) => {
    const token = createGmsTokenProvider({ reader: readerOf([lookup]), secretArn: ARN });
    const error = await token().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect((error as GmsUnavailableError).kind).toBe("token-unreadable");
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("secret-value-xyz");
  });

  it("does not keep a failed read", async () => {
    const reader = readerOf([{ found: false }, { found: true, value: "now-there" }]);
    const token = createGmsTokenProvider({ reader, secretArn: ARN, now: () => 0 });
    await expect(token()).rejects.toThrow(GmsUnavailableError);
    expect(await token()).toBe("now-there");
  });
});
