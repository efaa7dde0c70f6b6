/**
 * Weights are integers in micro-units: 1,000,000 = 1.0 = a whole class budget.
 * Floats never reach storage or comparisons, so Σ weights ≤ budget is exact.
 */
export const MICRO_UNITS_PER_WEIGHT = 1_000_000;
export const CLASS_BUDGET_MICRO = MICRO_UNITS_PER_WEIGHT;

/** Each pool has one weight budget per class; RUN_ASSERTION runs on the monitors budget. */
export const CapacityClass = {
  INGESTION: "INGESTION",
  MONITORS: "MONITORS",
} as const;
export type CapacityClass = (typeof CapacityClass)[keyof typeof CapacityClass];

export function capacityClassOf(task: string): CapacityClass {
  return task === "RUN_ASSERTION" ? CapacityClass.MONITORS : CapacityClass.INGESTION;
}

export type WeightParseResult = { ok: true; micro: number } | { ok: false; problem: string };

// Plain decimals only ("0.25", "1", ".5"): exponents and signs are refused rather than guessed at.
const DECIMAL = /^(\d*)(?:\.(\d*))?$/;

/** Parses EXECUTOR_TASK_WEIGHT (0 < w ≤ 1) into micro-units without floating point. */
export function parseWeight(raw: unknown): WeightParseResult {
  const text = typeof raw === "number" ? numberToPlainDecimal(raw) : raw;
  if (typeof text !== "string") {
    return { ok: false, problem: `must be a decimal number, got ${describeType(raw)}` };
  }
  const trimmed = text.trim();
  const match = DECIMAL.exec(trimmed);
  if (trimmed.length === 0 || trimmed.length > 32 || match === null || trimmed === ".") {
    return { ok: false, problem: `must be a decimal number between 0 and 1, got ${quote(text)}` };
  }
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  const wholeValue = whole === "" ? 0 : Number.parseInt(whole, 10);
  // Compare at full precision: "1.0000001" is above 1 even though six places would make it 1.
  if (wholeValue > 1 || (wholeValue === 1 && /[1-9]/.test(fraction))) {
    return { ok: false, problem: `must be at most 1, got ${quote(text)}` };
  }
  // Truncate past six digits: a weight is never rounded up past what was asked.
  const micro = wholeValue * MICRO_UNITS_PER_WEIGHT + Number.parseInt(fraction.slice(0, 6).padEnd(6, "0"), 10);
  if (micro === 0) {
    return /[1-9]/.test(fraction)
      ? { ok: false, problem: `must be at least 0.000001, got ${quote(text)}` }
      : { ok: false, problem: `must be greater than 0, got ${quote(text)}` };
  }
  return { ok: true, micro };
}

/** DataHub's default: 1 / max workers of the run's class, floored to a micro-unit. */
export function defaultWeightMicro(maxWorkers: number): number {
  if (!Number.isInteger(maxWorkers) || maxWorkers < 1) {
    throw new RangeError(`maxWorkers must be a positive integer, got ${maxWorkers}`);
  }
  return Math.floor(MICRO_UNITS_PER_WEIGHT / maxWorkers);
}

/** The bound a conditional write compares the counter against: DynamoDB conditions have no arithmetic. */
export function capMinusWeight(weightMicro: number): number {
  return CLASS_BUDGET_MICRO - weightMicro;
}

export function fits(usedMicro: number, weightMicro: number): boolean {
  return usedMicro <= capMinusWeight(weightMicro);
}

export function formatWeight(micro: number): string {
  const whole = Math.floor(micro / MICRO_UNITS_PER_WEIGHT);
  const fraction = String(micro % MICRO_UNITS_PER_WEIGHT)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return fraction === "" ? String(whole) : `${whole}.${fraction}`;
}

function numberToPlainDecimal(value: number): string {
  // JSON numbers such as 0.25 arrive as numbers; anything String() renders with an exponent is refused.
  return Number.isFinite(value) ? String(value) : `${value}`;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

export function quote(text: string, max = 40): string {
  // Cut by code point, so a surrogate pair is never split.
  const points = Array.from(text);
  const shown = points.length > max ? `${points.slice(0, max).join("")}…` : text;
  return JSON.stringify(shown);
}
