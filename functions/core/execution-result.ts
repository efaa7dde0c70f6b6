import { MICRO_UNITS_PER_WEIGHT } from "./weights.js";

/** The statuses this executor writes (GMS also knows DUPLICATE, which only GMS sets). */
export type ExecutionResultStatus = "RUNNING" | "SUCCESS" | "FAILURE" | "CANCELLED" | "TIMEOUT" | "ABORTED";

export type ExecutionResultInput = {
  status: ExecutionResultStatus;
  /** Epoch ms, integer. */
  startTimeMs?: number;
  /** Integer ms. */
  durationMs?: number;
  summary: {
    reason: string;
    attempts: number;
    pool: string;
    capacityClass: string;
    weightMicro: number;
    fargate?: { cpu: number; memoryMiB: number };
    memoryLimitKiB?: number;
    taskArn?: string;
    timings: { admittedAtMs: number; launchedAtMs?: number; startedAtMs?: number; finishedAtMs?: number };
  };
  /** Already masked by the task. */
  logTail?: string;
  /** The CLI's --report-to JSON, already masked. */
  structuredReport?: string;
  /** For RUNNING refreshes: makes each refresh's payload differ (GMS may skip an unchanged aspect). */
  refreshedAtMs?: number;
};

/** The dataHubExecutionRequestResult aspect (datahub-protocol.md §1). */
export type ExecutionResultValue = {
  status: string;
  report: string;
  structuredReport?: { type: "RUN_INGEST"; serializedValue: string; contentType: "application/json" };
  startTimeMs?: number;
  durationMs?: number;
};

/**
 * Caps that keep a result far below GMS's payload limits (reports have caused HTTP 413 and Kafka
 * "message too large" in DataHub: datahub-protocol.md §2). Bytes are UTF-8 bytes.
 */
export const EXECUTION_RESULT_LIMITS = {
  /** The report text, head summary included; the log tail is cut from its start to fit. */
  reportBytes: 100_000,
  /** Larger structured reports are left out, and the report says so. */
  structuredReportBytes: 200_000,
  /** JSON.stringify of the whole value (escaping can make it larger than its texts). */
  serializedValueBytes: 350_000,
  /** Each free-text field of the head summary (reason, pool, task ARN, ...), so the head always fits. */
  headFieldBytes: 2_000,
} as const;

const TAIL_HEADING = "--- log tail ---";
const TAIL_CUT_HEADING = "--- log tail (its start was cut to keep the report under the size limit) ---";

export function buildExecutionResult(input: ExecutionResultInput): ExecutionResultValue {
  const structured = input.structuredReport === undefined ? undefined : wellFormed(input.structuredReport);
  const structuredBytes = structured === undefined ? 0 : utf8Bytes(structured);
  const structuredFits = structured !== undefined && structuredBytes <= EXECUTION_RESULT_LIMITS.structuredReportBytes;
  const notes: string[] = [];
  if (structured !== undefined && !structuredFits) {
    notes.push(
      `Structured report: left out (${structuredBytes} bytes, over the ` +
        `${EXECUTION_RESULT_LIMITS.structuredReportBytes}-byte limit)`,
    );
  }
  const tail = input.logTail === undefined ? undefined : wellFormed(input.logTail);

  const withStructured = assemble(input, notes, tail, structuredFits ? structured : undefined);
  if (serializedBytes(withStructured) <= EXECUTION_RESULT_LIMITS.serializedValueBytes) return withStructured;

  // Escaping (quotes, backslashes, control characters) can push the value over its cap: the structured
  // report goes first, then the log tail is cut by its escaped size.
  if (structuredFits) {
    notes.push(
      `Structured report: left out (the result would be over ${EXECUTION_RESULT_LIMITS.serializedValueBytes} bytes)`,
    );
  }
  const withoutStructured = assemble(input, notes, tail, undefined);
  if (serializedBytes(withoutStructured) <= EXECUTION_RESULT_LIMITS.serializedValueBytes) return withoutStructured;

  const withoutTail = assemble(input, notes, undefined, undefined);
  const room =
    EXECUTION_RESULT_LIMITS.serializedValueBytes -
    serializedBytes(withoutTail) -
    escapedBytes(`\n\n${TAIL_CUT_HEADING}\n`);
  return assemble(input, notes, tail === undefined ? undefined : tailWithinEscapedBytes(tail, room), undefined, true);
}

function assemble(
  input: ExecutionResultInput,
  notes: readonly string[],
  tail: string | undefined,
  structured: string | undefined,
  tailAlreadyCut = false,
): ExecutionResultValue {
  const head = [...headLines(input), ...notes].join("\n");
  return {
    status: input.status,
    report: withTail(head, tail, tailAlreadyCut),
    ...(structured === undefined
      ? {}
      : { structuredReport: { type: "RUN_INGEST", serializedValue: structured, contentType: "application/json" } }),
    ...(input.startTimeMs === undefined ? {} : { startTimeMs: input.startTimeMs }),
    ...(input.durationMs === undefined ? {} : { durationMs: input.durationMs }),
  };
}

function withTail(head: string, tail: string | undefined, alreadyCut: boolean): string {
  if (tail === undefined || tail === "") return head;
  const whole = `${head}\n\n${TAIL_HEADING}\n${tail}`;
  if (!alreadyCut && utf8Bytes(whole) <= EXECUTION_RESULT_LIMITS.reportBytes) return whole;
  const prefix = `${head}\n\n${TAIL_CUT_HEADING}\n`;
  const room = EXECUTION_RESULT_LIMITS.reportBytes - utf8Bytes(prefix);
  return `${prefix}${lastUtf8Bytes(tail, room)}`;
}

function headLines(input: ExecutionResultInput): string[] {
  const s = input.summary;
  const t = s.timings;
  const lines = [
    `Status: ${input.status}`,
    `Reason: ${field(s.reason)}`,
    `Attempts: ${s.attempts}`,
    `Pool: ${field(s.pool)} (class ${field(s.capacityClass)}, weight ${formatWeight(s.weightMicro)})`,
  ];
  const size: string[] = [];
  if (s.fargate !== undefined) size.push(`Fargate ${formatCpu(s.fargate.cpu)} vCPU, ${s.fargate.memoryMiB} MiB`);
  if (s.memoryLimitKiB !== undefined) size.push(`memory limit ${s.memoryLimitKiB} KiB`);
  if (size.length > 0) lines.push(`Size: ${size.join("; ")}`);
  lines.push(`Admitted: ${formatTime(t.admittedAtMs)}`);
  if (t.launchedAtMs !== undefined) {
    lines.push(`Launched: ${formatTime(t.launchedAtMs)} (waited ${formatDuration(t.launchedAtMs - t.admittedAtMs)})`);
  }
  if (t.startedAtMs !== undefined) {
    const since = t.launchedAtMs ?? t.admittedAtMs;
    lines.push(`Started: ${formatTime(t.startedAtMs)} (${formatDuration(t.startedAtMs - since)} after launch)`);
  }
  if (t.finishedAtMs !== undefined) {
    const ran = t.startedAtMs === undefined ? "" : ` (ran ${formatDuration(t.finishedAtMs - t.startedAtMs)})`;
    lines.push(`Finished: ${formatTime(t.finishedAtMs)}${ran}`);
  }
  if (s.taskArn !== undefined) lines.push(`Task: ${field(s.taskArn)}`);
  if (input.refreshedAtMs !== undefined) lines.push(`Refreshed: ${formatTime(input.refreshedAtMs)}`);
  return lines;
}

function field(text: string): string {
  return firstUtf8Bytes(wellFormed(text), EXECUTION_RESULT_LIMITS.headFieldBytes);
}

/** Exact decimal of a micro-unit weight: 250000 → "0.25", 1000000 → "1". */
export function formatWeight(micro: number): string {
  if (!Number.isSafeInteger(micro) || micro < 0) return String(micro);
  const whole = Math.floor(micro / MICRO_UNITS_PER_WEIGHT);
  const fraction = String(micro % MICRO_UNITS_PER_WEIGHT)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return fraction === "" ? String(whole) : `${whole}.${fraction}`;
}

function formatCpu(units: number): string {
  // Fargate CPU units: 1024 = 1 vCPU.
  return String(Math.round((units / 1024) * 100) / 100);
}

function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** "42.3 s", "3 min 03 s", "2 h 05 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const clamped = Math.max(0, ms);
  if (clamped < 60_000) return `${(clamped / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(clamped / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours === 0) return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
  return `${hours} h ${String(minutes).padStart(2, "0")} min`;
}

// Lone surrogates would become U+FFFD on the wire and change byte counts; replace them up front.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, "\uFFFD");
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function serializedBytes(value: ExecutionResultValue): number {
  return utf8Bytes(JSON.stringify(value));
}

function escapedBytes(text: string): number {
  return utf8Bytes(JSON.stringify(text)) - 2;
}

const isContinuationByte = (byte: number | undefined): boolean => byte !== undefined && (byte & 0xc0) === 0x80;

/** The longest prefix of at most maxBytes UTF-8 bytes that ends on a character boundary. */
function firstUtf8Bytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  // "…" takes 3 bytes of the budget and says the field was cut.
  let end = Math.max(0, maxBytes - 3);
  while (end > 0 && isContinuationByte(bytes[end])) end--;
  return `${bytes.subarray(0, end).toString("utf8")}…`;
}

/** The longest suffix of at most maxBytes UTF-8 bytes that starts on a character boundary. */
function lastUtf8Bytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - Math.max(0, maxBytes);
  while (start < bytes.length && isContinuationByte(bytes[start])) start++;
  return bytes.subarray(start).toString("utf8");
}

/** The longest suffix whose JSON-escaped form takes at most maxBytes, cut between code points. */
function tailWithinEscapedBytes(text: string, maxBytes: number): string {
  const codePoints = Array.from(text);
  let used = 0;
  let index = codePoints.length;
  while (index > 0) {
    const cost = escapedBytes(codePoints[index - 1] ?? "");
    if (used + cost > maxBytes) break;
    used += cost;
    index--;
  }
  return codePoints.slice(index).join("");
}
