import fc from "fast-check";
import { runMessage } from "./executor-fixture.js";

const valid = JSON.parse(runMessage({ id: "template" })) as Record<string, unknown> & {
  input: Record<string, unknown>;
};

// SQS accepts only XML-legal characters; anything else never reaches the function.
// biome-ignore lint/suspicious/noControlCharactersInRegex: it lists the control characters SQS allows.
const SQS_ILLEGAL = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const sqsSafe = (s: string) => s.replace(SQS_ILLEGAL, "?");
const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

/** Malformed and hostile message bodies: odd text, random JSON, deep nesting, sizes around the limit, mutated valid
 * messages and prototype-pollution keys. Only characters SQS accepts, since nothing else reaches the function. */
export function hostileBody(): fc.Arbitrary<string> {
  const oddText = fc.oneof(fc.string({ unit: "grapheme" }), fc.string({ unit: "binary" }), fc.string({ maxLength: 3 }));
  const deep = fc.integer({ min: 50, max: 3000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);
  const deepObject = fc.integer({ min: 50, max: 500 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`);
  // Around the 300 KiB limit, on both sides of it.
  const huge = fc
    .tuple(fc.integer({ min: 290_000, max: 330_000 }), fc.uuid())
    .map(([n, id]) =>
      JSON.stringify({ ...valid, executionRequestUrn: `urn:li:dataHubExecutionRequest:${id}`, junk: "z".repeat(n) }),
    );
  const mutated = fc
    .tuple(
      fc.constantFrom(
        "version",
        "executionRequestUrn",
        "pool",
        "priority",
        "input",
        "input.task",
        "input.args",
        "input.args.recipe",
        "input.args.extra_env_vars",
        "input.executorId",
      ),
      fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined)),
      fc.uuid(),
    )
    .map(([path, value, id]) => {
      const copy = JSON.parse(JSON.stringify(valid)) as Record<string, Record<string, unknown>>;
      copy.executionRequestUrn = `urn:li:dataHubExecutionRequest:${id}` as never;
      const parts = path.split(".");
      let target: Record<string, unknown> = copy;
      for (const part of parts.slice(0, -1)) target = (target[part] ?? {}) as Record<string, unknown>;
      target[parts.at(-1) as string] = value;
      return JSON.stringify(copy);
    });
  const polluted = fc
    .tuple(fc.constantFrom(...HOSTILE_KEYS), fc.constantFrom("top", "input", "args"), fc.uuid())
    .map(([key, where, id]) => {
      const base = runMessage({ id });
      const injected = `"${key}": {"polluted": "yes", "isAdmin": true}, `;
      if (where === "top") return base.replace('{"version"', `{${injected}"version"`);
      if (where === "input") return base.replace('"input":{', `"input":{${injected}`);
      return base.replace('"args":{', `"args":{${injected.replace('{"polluted": "yes", "isAdmin": true}', '"x"')}`);
    });
  return fc
    .oneof(
      { arbitrary: oddText, weight: 4 },
      { arbitrary: fc.json(), weight: 4 },
      { arbitrary: deep, weight: 1 },
      { arbitrary: deepObject, weight: 1 },
      { arbitrary: huge, weight: 1 },
      { arbitrary: mutated, weight: 6 },
      { arbitrary: polluted, weight: 3 },
    )
    .map(sqsSafe);
}
