import { z } from "zod";
import { PoolId } from "./pool.js";
import { BadInputError, RejectionCode } from "./rejection.js";

/**
 * Message format v1 (docs/message-format.md). Unknown fields are ignored; anything invalid is refused
 * with a BadInputError that names the field.
 */
export const MESSAGE_VERSION = 1;

/** The stored input item must fit DynamoDB's 400 KB item limit with room for its other attributes. */
export const MAX_BODY_BYTES = 300 * 1024;

export const EXECUTION_REQUEST_URN_PATTERN = /^urn:li:dataHubExecutionRequest:[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

const PRIORITY_LIMIT = 1000;

const ExecutionRequestInput = z.object({
  task: z.string().min(1).max(64),
  args: z.record(z.string().max(128), z.string()),
  executorId: z.string().max(128).optional(),
  source: z
    .object({
      type: z.string().max(64),
      ingestionSource: z.string().max(512).optional(),
    })
    .optional(),
  requestedAt: z.number().int().nonnegative().optional(),
  actorUrn: z.string().max(512).optional(),
});
export type ExecutionRequestInput = z.infer<typeof ExecutionRequestInput>;

const RunMessageV1 = z.object({
  version: z.literal(MESSAGE_VERSION),
  kind: z.literal("run").optional(),
  executionRequestUrn: z.string(),
  pool: PoolId.optional(),
  priority: z.number().int().min(-PRIORITY_LIMIT).max(PRIORITY_LIMIT).optional(),
  input: ExecutionRequestInput,
});
export type RunMessage = z.infer<typeof RunMessageV1>;

const CancelMessageV1 = z.object({
  version: z.literal(MESSAGE_VERSION),
  kind: z.literal("cancel"),
  executionRequestUrn: z.string(),
  reason: z.string().max(500).optional(),
});
export type CancelMessage = z.infer<typeof CancelMessageV1>;

export type IntakeMessage = ({ kind: "run" } & RunMessage) | CancelMessage;

const KINDS = ["run", "cancel"];

/** Keys that could reach an object's prototype are refused outright, wherever they appear. */
const FORBIDDEN_KEYS = new Set(["__proto__"]);

/** A run message (the default kind) or a cancel message; see docs/message-format.md. */
export function parseIntakeMessage(body: string): IntakeMessage {
  const bytes = Buffer.byteLength(body, "utf8");
  if (bytes > MAX_BODY_BYTES) {
    throw new BadInputError(
      RejectionCode.BODY_TOO_LARGE,
      `body is ${bytes} bytes; the limit is ${MAX_BODY_BYTES} bytes`,
    );
  }
  const json = parseJson(body);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new BadInputError(RejectionCode.INVALID_MESSAGE, `body must be a JSON object, got ${jsonType(json)}`);
  }
  const envelope = json as Record<string, unknown>;
  const urn = typeof envelope.executionRequestUrn === "string" ? envelope.executionRequestUrn : undefined;
  const knownUrn = urn !== undefined && EXECUTION_REQUEST_URN_PATTERN.test(urn) ? urn : undefined;
  if (envelope.version !== MESSAGE_VERSION) {
    const got = envelope.version === undefined ? "none" : JSON.stringify(envelope.version).slice(0, 20);
    throw new BadInputError(
      RejectionCode.UNKNOWN_VERSION,
      `unsupported message version ${got}; this executor reads version ${MESSAGE_VERSION}`,
      knownUrn,
    );
  }
  if (knownUrn === undefined) {
    throw new BadInputError(
      RejectionCode.INVALID_URN,
      urn === undefined
        ? "executionRequestUrn is missing or not a string"
        : `executionRequestUrn must look like urn:li:dataHubExecutionRequest:<id>, got ${JSON.stringify(urn.slice(0, 80))}`,
    );
  }
  const kind = envelope.kind ?? "run";
  if (typeof kind !== "string" || !KINDS.includes(kind)) {
    throw new BadInputError(
      RejectionCode.INVALID_MESSAGE,
      `kind must be "run" or "cancel", got ${JSON.stringify(kind).slice(0, 40)}`,
      knownUrn,
    );
  }
  if (kind === "cancel") {
    const cancel = CancelMessageV1.safeParse(json);
    if (!cancel.success) throw new BadInputError(RejectionCode.INVALID_MESSAGE, describeIssues(cancel.error), knownUrn);
    return cancel.data;
  }
  const parsed = RunMessageV1.safeParse(json);
  if (!parsed.success) {
    throw new BadInputError(RejectionCode.INVALID_MESSAGE, describeIssues(parsed.error), knownUrn);
  }
  return { ...parsed.data, kind: "run" };
}

/** For callers that accept only runs (tests, tools): a cancel message is refused here. */
export function parseRunMessage(body: string): RunMessage {
  const message = parseIntakeMessage(body);
  if (message.kind === "cancel") {
    throw new BadInputError(
      RejectionCode.INVALID_MESSAGE,
      "expected a run message, got a cancel",
      message.executionRequestUrn,
    );
  }
  return message;
}

function parseJson(body: string): unknown {
  let forbidden: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(body, (key, v) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden = key;
      return v;
    });
  } catch (error) {
    // V8's message quotes the body; only the position is safe to repeat.
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    throw new BadInputError(
      RejectionCode.NOT_JSON,
      position === undefined ? "body is not valid JSON" : `body is not valid JSON (error at position ${position})`,
    );
  }
  if (forbidden !== undefined) {
    throw new BadInputError(
      RejectionCode.INVALID_MESSAGE,
      `body contains the forbidden key ${JSON.stringify(forbidden)}`,
    );
  }
  return value;
}

export function describeIssues(error: z.ZodError, prefix = ""): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    return `${path === "" ? "(body)" : path}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : "";
  return `${shown.join("; ")}${more}`;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
