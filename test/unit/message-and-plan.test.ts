import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, parseRunMessage } from "../../functions/core/execution-request-message.js";
import { choosePool, planRun, runIdFor } from "../../functions/core/plan-run.js";
import { type Pool, PoolSettings } from "../../functions/core/pool.js";
import { BadInputError } from "../../functions/core/rejection.js";

const URN = "urn:li:dataHubExecutionRequest:3f1c2e7a-1b1d-4c7b-9a51-1c2d3e4f5a6b";
const pool: Pool = { id: "main", isDefault: true, ...PoolSettings.parse({}) };

function message(
  overrides: Record<string, unknown> = {},
  args: Record<string, unknown> = {},
  input: Record<string, unknown> = {},
) {
  return JSON.stringify({
    version: 1,
    executionRequestUrn: URN,
    input: {
      task: "RUN_INGEST",
      args: { recipe: "source:\n  type: file\n  config:\n    path: /tmp/x.json\n", version: "1.7.0.17", ...args },
      executorId: "main",
      ...input,
    },
    ...overrides,
  });
}

function rejection(body: string): BadInputError {
  try {
    planRun(parseRunMessage(body), pool);
  } catch (error) {
    if (error instanceof BadInputError) return error;
    throw error;
  }
  throw new Error("accepted a body it should have refused");
}

describe("message format v1", () => {
  it("accepts a minimal valid message and ignores unknown fields", () => {
    const plan = planRun(parseRunMessage(message({ somethingNew: { deep: [1, 2] } }, {}, { attempts: 3 })), pool);
    expect(plan).toMatchObject({
      runId: runIdFor(URN),
      executionRequestUrn: URN,
      poolId: "main",
      capacityClass: "INGESTION",
      task: "RUN_INGEST",
      priority: 0,
      weightMicro: 250_000,
      weightSource: "pool-default",
      memoryLimitKiB: 4 * 1024 * 1024,
      memoryLimitSource: "pool-default",
      fargate: { cpu: 512, memoryMiB: 4096 },
      secretNames: [],
    });
    expect(JSON.stringify(plan)).not.toContain("somethingNew");
  });

  it("accepts a JSON recipe as well as YAML, and collects its secret names", () => {
    const recipe = JSON.stringify({
      source: { type: "mysql", config: { password: "${DB_PASS}", user: "${DB_USER}" } },
    });
    const plan = planRun(parseRunMessage(message({}, { recipe })), pool);
    expect(plan.secretNames).toEqual(["DB_PASS", "DB_USER"]);
  });

  it("takes weight, memory and timeout from extra_env_vars", () => {
    const extra = JSON.stringify({
      EXECUTOR_TASK_WEIGHT: "0.5",
      EXECUTOR_TASK_MEMORY_LIMIT: String(3 * 1024 * 1024),
      EXECUTOR_TASK_TIMEOUT_SECONDS: 600,
    });
    const plan = planRun(parseRunMessage(message({ priority: 7 }, { extra_env_vars: extra })), pool);
    expect(plan).toMatchObject({
      weightMicro: 500_000,
      weightSource: "EXECUTOR_TASK_WEIGHT",
      memoryLimitKiB: 3 * 1024 * 1024,
      fargate: { cpu: 512, memoryMiB: 3072 },
      runTimeoutSeconds: 600,
      priority: 7,
    });
  });

  it("defaults the weight to 1 / the pool's ingestion max workers", () => {
    const twoWorkers: Pool = { ...pool, monitorsMaxWorkers: 5, ingestionMaxWorkers: 2 };
    expect(planRun(parseRunMessage(message()), twoWorkers).weightMicro).toBe(500_000);
  });

  const cases: [string, string, string, RegExp][] = [
    ["not JSON", "{not json", "NOT_JSON", /^body is not valid JSON \(error at position \d+\)$/],
    ["a JSON array", "[1,2]", "INVALID_MESSAGE", /body must be a JSON object, got an array/],
    [
      "an unknown version",
      message({ version: 2 }),
      "UNKNOWN_VERSION",
      /unsupported message version 2; this executor reads version 1/,
    ],
    ["no version", message({ version: undefined }), "UNKNOWN_VERSION", /unsupported message version none/],
    ["no URN", message({ executionRequestUrn: undefined }), "INVALID_URN", /executionRequestUrn is missing/],
    [
      "a malformed URN",
      message({ executionRequestUrn: "urn:li:corpuser:bob" }),
      "INVALID_URN",
      /must look like urn:li:dataHubExecutionRequest:<id>, got "urn:li:corpuser:bob"/,
    ],
    [
      "a weight of 0",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"0"}' }),
      "INVALID_WEIGHT",
      /EXECUTOR_TASK_WEIGHT must be greater than 0, got "0"/,
    ],
    [
      "a negative weight",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"-0.25"}' }),
      "INVALID_WEIGHT",
      /EXECUTOR_TASK_WEIGHT must be a decimal number between 0 and 1, got "-0.25"/,
    ],
    [
      "a weight above 1",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"1.5"}' }),
      "INVALID_WEIGHT",
      /EXECUTOR_TASK_WEIGHT must be at most 1, got "1.5"/,
    ],
    [
      "a weight that is not a number",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"heavy"}' }),
      "INVALID_WEIGHT",
      /EXECUTOR_TASK_WEIGHT must be a decimal number between 0 and 1, got "heavy"/,
    ],
    [
      "a memory limit that is not a number",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_MEMORY_LIMIT":"8GB"}' }),
      "INVALID_MEMORY_LIMIT",
      /EXECUTOR_TASK_MEMORY_LIMIT \(KiB\) must be a whole number, got "8GB"/,
    ],
    [
      "a memory limit of 0",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_MEMORY_LIMIT":"0"}' }),
      "INVALID_MEMORY_LIMIT",
      /must be greater than 0/,
    ],
    [
      "a timeout that is not a number",
      message({}, { extra_env_vars: '{"EXECUTOR_TASK_TIMEOUT_SECONDS":"soon"}' }),
      "INVALID_TIMEOUT",
      /EXECUTOR_TASK_TIMEOUT_SECONDS must be a whole number/,
    ],
    [
      "extra_env_vars that are not JSON",
      message({}, { extra_env_vars: "{oops" }),
      "INVALID_EXTRA_ENV_VARS",
      /extra_env_vars is not valid JSON/,
    ],
    [
      "extra_env_vars that are a list",
      message({}, { extra_env_vars: "[1]" }),
      "INVALID_EXTRA_ENV_VARS",
      /must be a JSON object/,
    ],
    [
      "an unsupported task",
      message({}, {}, { task: "RUN_ASSERTION" }),
      "UNSUPPORTED_TASK",
      /task "RUN_ASSERTION" is not run by this executor \(it runs RUN_INGEST, TEST_CONNECTION\)/,
    ],
    ["no recipe", message({}, { recipe: undefined }), "INVALID_RECIPE", /input.args.recipe is missing/],
    [
      "a recipe without a source",
      message({}, { recipe: "sink:\n  type: console\n" }),
      "INVALID_RECIPE",
      /has no source section/,
    ],
    [
      "a recipe that is not YAML",
      message({}, { recipe: "source: [unclosed" }),
      "INVALID_RECIPE",
      /is neither valid YAML nor JSON/,
    ],
    ["args that are not strings", message({}, { debug_mode: true }), "INVALID_MESSAGE", /input.args.debug_mode: /],
    ["a priority out of range", message({ priority: 5000 }), "INVALID_MESSAGE", /priority: /],
    ["a pool id with a bad character", message({ pool: "a#b" }), "INVALID_MESSAGE", /pool: a pool id is 1-64 letters/],
    [
      "a __proto__ key",
      message({}, {}, { args: JSON.parse('{"__proto__": {"polluted": "yes"}, "recipe": "source: {type: x}"}') }),
      "INVALID_MESSAGE",
      /forbidden key "__proto__"/,
    ],
    [
      "a body that is too large",
      message({}, { recipe: `source: {type: x}\n#${"x".repeat(MAX_BODY_BYTES)}` }),
      "BODY_TOO_LARGE",
      /^body is \d+ bytes; the limit is 307200 bytes$/,
    ],
  ];

  it.each(cases)("refuses %s with its own clear reason", (_name, body, code, reason) => {
    const error = rejection(body);
    expect(error.code).toBe(code);
    expect(error.reason).toMatch(reason);
  });

  it("gives every listed kind of bad input a different reason", () => {
    const reasons = cases.map(([, body]) => rejection(body).reason);
    expect(new Set(reasons).size).toBe(reasons.length);
  });

  it("never repeats the body in a JSON syntax error", () => {
    const error = rejection('{"password": "hunter2"');
    expect(error.reason).not.toContain("hunter2");
  });
});

describe("routing", () => {
  const parsed = (overrides: Record<string, unknown>, input: Record<string, unknown> = {}) =>
    parseRunMessage(message(overrides, {}, input));

  it("prefers the message's pool, then input.executorId, then the default", () => {
    expect(choosePool(parsed({ pool: "fast" }))).toEqual({ poolId: "fast", from: "message.pool" });
    expect(choosePool(parsed({}, { executorId: "etl" }))).toEqual({ poolId: "etl", from: "input.executorId" });
    expect(choosePool(parsed({}, { executorId: undefined }))).toEqual({ poolId: undefined });
    expect(choosePool(parsed({}, { executorId: "" }))).toEqual({ poolId: undefined });
  });

  it("names an executorId that cannot be a pool", () => {
    expect(() => choosePool(parsed({}, { executorId: "no such pool!" }))).toThrow(
      /pool "no such pool!" \(from input.executorId\) does not exist/,
    );
  });
});
