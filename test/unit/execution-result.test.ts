import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildExecutionResult,
  EXECUTION_RESULT_LIMITS,
  type ExecutionResultInput,
  formatDuration,
  formatWeight,
} from "../../functions/core/execution-result.js";

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

const base: ExecutionResultInput = {
  status: "SUCCESS",
  startTimeMs: 1_764_300_030_000,
  durationMs: 183_000,
  summary: {
    reason: "the ingestion succeeded",
    attempts: 1,
    pool: "main",
    capacityClass: "INGESTION",
    weightMicro: 250_000,
    fargate: { cpu: 1024, memoryMiB: 6144 },
    memoryLimitKiB: 6_291_456,
    taskArn: "arn:aws:ecs:us-east-1:123456789012:task/dhx/0123abcd",
    timings: {
      admittedAtMs: 1_764_300_000_000,
      launchedAtMs: 1_764_300_012_300,
      startedAtMs: 1_764_300_030_000,
      finishedAtMs: 1_764_300_213_000,
    },
  },
  logTail: "line 1\nline 2\n",
  structuredReport: '{"source":{"type":"file","report":{"events_produced":3}}}',
};

describe("buildExecutionResult", () => {
  it("writes a readable report: status, reason, attempts, pool, size, timings, task, then the log tail", () => {
    const value = buildExecutionResult(base);
    expect(value).toEqual({
      status: "SUCCESS",
      startTimeMs: 1_764_300_030_000,
      durationMs: 183_000,
      structuredReport: {
        type: "RUN_INGEST",
        serializedValue: base.structuredReport,
        contentType: "application/json",
      },
      report: [
        "Status: SUCCESS",
        "Reason: the ingestion succeeded",
        "Attempts: 1",
        "Pool: main (class INGESTION, weight 0.25)",
        "Size: Fargate 1 vCPU, 6144 MiB; memory limit 6291456 KiB",
        "Admitted: 2025-11-28T03:20:00.000Z",
        "Launched: 2025-11-28T03:20:12.300Z (waited 12.3 s)",
        "Started: 2025-11-28T03:20:30.000Z (17.7 s after launch)",
        "Finished: 2025-11-28T03:23:33.000Z (ran 3 min 03 s)",
        "Task: arn:aws:ecs:us-east-1:123456789012:task/dhx/0123abcd",
        "",
        "--- log tail ---",
        "line 1",
        "line 2",
        "",
      ].join("\n"),
    });
  });

  it("a waiting run's RUNNING refresh: only what is known, and a refresh time that changes the payload", () => {
    const running: ExecutionResultInput = {
      status: "RUNNING",
      startTimeMs: 1_764_300_030_000,
      summary: {
        reason: "running",
        attempts: 2,
        pool: "main",
        capacityClass: "MONITORS",
        weightMicro: 1_000_000,
        timings: { admittedAtMs: 1_764_300_000_000 },
      },
      refreshedAtMs: 1_764_300_600_000,
    };
    const first = buildExecutionResult(running);
    expect(first).toEqual({
      status: "RUNNING",
      startTimeMs: 1_764_300_030_000,
      report: [
        "Status: RUNNING",
        "Reason: running",
        "Attempts: 2",
        "Pool: main (class MONITORS, weight 1)",
        "Admitted: 2025-11-28T03:20:00.000Z",
        "Refreshed: 2025-11-28T03:30:00.000Z",
      ].join("\n"),
    });
    const second = buildExecutionResult({ ...running, refreshedAtMs: 1_764_301_200_000 });
    expect(JSON.stringify(second)).not.toBe(JSON.stringify(first));
  });

  it("cuts the log tail from its start on a character boundary, keeps the head and says it was cut", () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `ligne ${i} é€😀`).join("\n");
    const value = buildExecutionResult({ ...base, logTail: lines });
    expect(bytes(value.report)).toBeLessThanOrEqual(EXECUTION_RESULT_LIMITS.reportBytes);
    expect(bytes(value.report)).toBeGreaterThan(EXECUTION_RESULT_LIMITS.reportBytes - 4);
    expect(value.report.startsWith("Status: SUCCESS\nReason: the ingestion succeeded\n")).toBe(true);
    expect(value.report).toContain("--- log tail (its start was cut to keep the report under the size limit) ---\n");
    expect(value.report.endsWith("ligne 19999 é€😀")).toBe(true);
    expect(value.report).not.toContain("ligne 0 ");
    expect(value.report).not.toContain("\uFFFD");
  });

  it("leaves out a structured report over 200,000 bytes and says so in the report", () => {
    const big = JSON.stringify({ pad: "x".repeat(EXECUTION_RESULT_LIMITS.structuredReportBytes) });
    const value = buildExecutionResult({ ...base, structuredReport: big });
    expect(value.structuredReport).toBeUndefined();
    expect(value.report).toContain("Structured report: left out (200010 bytes, over the 200000-byte limit)");
  });

  it("keeps a structured report of exactly 200,000 bytes", () => {
    const exact = `"${"x".repeat(EXECUTION_RESULT_LIMITS.structuredReportBytes - 2)}"`;
    expect(buildExecutionResult({ ...base, structuredReport: exact }).structuredReport?.serializedValue).toBe(exact);
  });

  it("drops the structured report when escaping would take the value over 350,000 bytes", () => {
    // 199,998 quote characters: within the 200,000-byte cap raw, ~400,000 bytes once JSON-escaped.
    const quoteHeavy = `[${'"'.repeat(199_998)}]`;
    const value = buildExecutionResult({ ...base, structuredReport: quoteHeavy });
    expect(value.structuredReport).toBeUndefined();
    expect(value.report).toContain("Structured report: left out (the result would be over 350000 bytes)");
    expect(bytes(JSON.stringify(value))).toBeLessThanOrEqual(EXECUTION_RESULT_LIMITS.serializedValueBytes);
  });

  it("cuts a log tail of control characters (6 bytes each once escaped) to fit the serialised cap", () => {
    const value = buildExecutionResult({ ...base, logTail: "\u0001".repeat(100_000) });
    expect(bytes(JSON.stringify(value))).toBeLessThanOrEqual(EXECUTION_RESULT_LIMITS.serializedValueBytes);
    expect(bytes(JSON.stringify(value))).toBeGreaterThan(EXECUTION_RESULT_LIMITS.serializedValueBytes - 10);
    expect(value.report).toContain("its start was cut");
  });

  it("cuts over-long head fields with an ellipsis so the head always fits", () => {
    const value = buildExecutionResult({ ...base, summary: { ...base.summary, reason: "é".repeat(5_000) } });
    const reasonLine = value.report.split("\n")[1] ?? "";
    expect(reasonLine.endsWith("…")).toBe(true);
    expect(bytes(reasonLine)).toBeLessThanOrEqual("Reason: ".length + EXECUTION_RESULT_LIMITS.headFieldBytes);
  });

  it("replaces lone surrogates so the value is valid UTF-8 byte for byte", () => {
    const value = buildExecutionResult({ ...base, logTail: "a\uD800b\uDC00c" });
    expect(value.report.endsWith("a\uFFFDb\uFFFDc")).toBe(true);
  });

  it("any input gives a value within every cap, as valid UTF-8 (property)", () => {
    const units = [
      "binary",
      "grapheme",
      fc.constantFrom('"', "\\", "\u0001", "\n", "é", "😀", "\uD800", "\uDC00"),
    ] as const;
    const short = (maxLength: number) => fc.oneof(...units.map((unit) => fc.string({ unit, maxLength })));
    // fast-check favours short strings: repeating a random piece reliably reaches and passes the caps.
    const text = (maxLength: number) =>
      fc.oneof(
        short(maxLength),
        fc
          .tuple(short(40), fc.integer({ min: 1, max: maxLength }))
          .map(([piece, times]) => piece.repeat(Math.ceil(times / Math.max(1, piece.length)))),
      );
    const ms = fc.integer({ min: 0, max: 4_102_444_800_000 });
    const input: fc.Arbitrary<ExecutionResultInput> = fc.record(
      {
        status: fc.constantFrom("RUNNING", "SUCCESS", "FAILURE", "CANCELLED", "TIMEOUT", "ABORTED"),
        startTimeMs: ms,
        durationMs: fc.integer({ min: 0, max: 10 ** 10 }),
        summary: fc.record(
          {
            reason: text(6_000),
            attempts: fc.integer({ min: 1, max: 10 }),
            pool: text(3_000),
            capacityClass: fc.constantFrom("INGESTION", "MONITORS"),
            weightMicro: fc.integer({ min: 1, max: 1_000_000 }),
            fargate: fc.record({ cpu: fc.constantFrom(256, 512, 1024, 16384), memoryMiB: fc.integer({ min: 512 }) }),
            memoryLimitKiB: fc.integer({ min: 1 }),
            taskArn: text(3_000),
            timings: fc.record(
              { admittedAtMs: ms, launchedAtMs: ms, startedAtMs: ms, finishedAtMs: ms },
              { requiredKeys: ["admittedAtMs"] },
            ),
          },
          { requiredKeys: ["reason", "attempts", "pool", "capacityClass", "weightMicro", "timings"] },
        ),
        logTail: fc.oneof(text(2_000), text(300_000)),
        structuredReport: fc.oneof(text(1_000), text(260_000)),
        refreshedAtMs: ms,
      },
      { requiredKeys: ["status", "summary"] },
    );
    fc.assert(
      fc.property(input, (given) => {
        const value = buildExecutionResult(given);
        const serialised = JSON.stringify(value);
        expect(bytes(serialised)).toBeLessThanOrEqual(EXECUTION_RESULT_LIMITS.serializedValueBytes);
        expect(bytes(value.report)).toBeLessThanOrEqual(EXECUTION_RESULT_LIMITS.reportBytes);
        if (value.structuredReport !== undefined) {
          expect(bytes(value.structuredReport.serializedValue)).toBeLessThanOrEqual(
            EXECUTION_RESULT_LIMITS.structuredReportBytes,
          );
        }
        // Valid UTF-8: encoding then decoding strictly gives the same text back.
        const encoded = Buffer.from(serialised, "utf8");
        expect(new TextDecoder("utf-8", { fatal: true }).decode(encoded)).toBe(serialised);
        expect(value.report.startsWith(`Status: ${given.status}\n`)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe("formatting", () => {
  it.each([
    [1, "0.000001"],
    [250_000, "0.25"],
    [333_333, "0.333333"],
    [1_000_000, "1"],
  ])("weight %d micro-units is %s", (micro, text) => {
    expect(formatWeight(micro)).toBe(text);
  });

  it.each([
    [0, "0.0 s"],
    [12_345, "12.3 s"],
    [183_000, "3 min 03 s"],
    [7_500_000, "2 h 05 min"],
    [-5, "0.0 s"],
  ])("duration %d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
