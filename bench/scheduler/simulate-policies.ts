import { queueKeyFor } from "../../functions/core/run-record.js";
import { CLASS_BUDGET_MICRO, fits } from "../../functions/core/weights.js";
import type { TraceRun } from "./generate-trace.js";

export const Policy = {
  /** Ours: strict (priority desc, arrival) order per pool; the head that does not fit blocks those behind it. */
  STRICT_PRIORITY_FIFO: "strict priority-FIFO, weights (ours)",
  /** Integer-slot peers: 4 runs per pool at a time whatever their weight, in arrival order. */
  COUNT_LIMITED_FIFO: "count-limited FIFO, 4 slots",
  /** No queue: a waiting run retries on its own backoff; whoever retries first while there is room starts. */
  UNORDERED_RETRY: "unordered retry (backoff 1-8 s)",
} as const;
export type Policy = (typeof Policy)[keyof typeof Policy];

export const COUNT_SLOTS = 4;
/** The same backoff as section 2's SQS baseline: 1 s doubling to 8 s, jittered ×0.5-1. */
const RETRY_BACKOFF_MS = { first: 1_000, cap: 8_000 } as const;

export type PolicyResult = {
  policy: Policy;
  waitsMs: number[];
  /** Waits of the runs with weight 1.0 (they need the whole budget). */
  wholeBudgetWaitsMs: number[];
  /** ∫ Σ running weights dt / (budget × time with runs waiting), over all pools. */
  utilisationWhileWaiting: number;
  /** Share of the time with runs waiting during which Σ running weights exceeded the budget. */
  overBudgetShare: number;
  maxUsedMicro: number;
  decisions: number;
  /** CPU time inside scheduling passes (ours and count-FIFO) or retry decisions (unordered). */
  schedulingMs: number;
  elapsedMs: number;
  /** Ours only: scheduling passes that ended with a head that fits left waiting (must be 0). */
  missedStarts: number;
};

type Waiting = { key: string; run: TraceRun };

type PoolState = {
  usedMicro: number;
  running: number;
  waiting: Waiting[];
  /** Runs that arrived and have not started, for the unordered policy (it keeps no queue). */
  pending: number;
  lastMs: number;
  waitingSpanMs: number;
  usedWhileWaiting: number;
  overBudgetMs: number;
};

const FINISH = 0;
const ARRIVAL = 1;
const RETRY = 2;
type SimEvent = { atMs: number; kind: number; seq: number; run: TraceRun; attempt: number };

/** A binary min-heap of events by (time, kind, sequence): deterministic for a given trace. */
class EventHeap {
  private items: SimEvent[] = [];
  get size(): number {
    return this.items.length;
  }
  push(event: SimEvent): void {
    const items = this.items;
    items.push(event);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as SimEvent, items[parent] as SimEvent)) break;
      [items[i], items[parent]] = [items[parent] as SimEvent, items[i] as SimEvent];
      i = parent;
    }
  }
  pop(): SimEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && before(items[left] as SimEvent, items[smallest] as SimEvent)) smallest = left;
        if (right < items.length && before(items[right] as SimEvent, items[smallest] as SimEvent)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as SimEvent, items[i] as SimEvent];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.atMs !== b.atMs ? a.atMs < b.atMs : a.kind !== b.kind ? a.kind < b.kind : a.seq < b.seq;
}

/** Replays the trace under one policy, pure and single-threaded; `random` only jitters the retry baseline. */
export function simulatePolicy(trace: readonly TraceRun[], policy: Policy, random: () => number): PolicyResult {
  const started = performance.now();
  const pools = new Map<string, PoolState>();
  const heap = new EventHeap();
  let seq = 0;
  for (const run of trace) heap.push({ atMs: run.arrivalMs, kind: ARRIVAL, seq: seq++, run, attempt: 0 });

  const waitsMs: number[] = [];
  const wholeBudgetWaitsMs: number[] = [];
  let decisions = 0;
  let schedulingMs = 0;
  let missedStarts = 0;
  let maxUsedMicro = 0;

  const poolOf = (id: string): PoolState => {
    let pool = pools.get(id);
    if (pool === undefined) {
      pool = {
        usedMicro: 0,
        running: 0,
        waiting: [],
        pending: 0,
        lastMs: 0,
        waitingSpanMs: 0,
        usedWhileWaiting: 0,
        overBudgetMs: 0,
      };
      pools.set(id, pool);
    }
    return pool;
  };
  const advance = (pool: PoolState, nowMs: number) => {
    const dt = nowMs - pool.lastMs;
    if (dt > 0 && pool.pending > 0) {
      pool.waitingSpanMs += dt;
      pool.usedWhileWaiting += pool.usedMicro * dt;
      if (pool.usedMicro > CLASS_BUDGET_MICRO) pool.overBudgetMs += dt;
    }
    pool.lastMs = nowMs;
  };
  const start = (pool: PoolState, run: TraceRun, nowMs: number) => {
    pool.usedMicro += run.weightMicro;
    pool.running++;
    pool.pending--;
    maxUsedMicro = Math.max(maxUsedMicro, pool.usedMicro);
    const wait = nowMs - run.arrivalMs;
    waitsMs.push(wait);
    if (run.weightMicro === CLASS_BUDGET_MICRO) wholeBudgetWaitsMs.push(wait);
    heap.push({ atMs: nowMs + run.durationMs, kind: FINISH, seq: seq++, run, attempt: 0 });
  };
  const schedule = (pool: PoolState, nowMs: number) => {
    const passStarted = performance.now();
    schedulePass(pool, nowMs);
    schedulingMs += performance.now() - passStarted;
  };
  const schedulePass = (pool: PoolState, nowMs: number) => {
    if (policy === Policy.STRICT_PRIORITY_FIFO) {
      let taken = 0;
      while (taken < pool.waiting.length) {
        const head = pool.waiting[taken] as Waiting;
        decisions++;
        if (!fits(pool.usedMicro, head.run.weightMicro)) break;
        start(pool, head.run, nowMs);
        taken++;
      }
      if (taken > 0) pool.waiting.splice(0, taken);
      const head = pool.waiting[0];
      if (head !== undefined && fits(pool.usedMicro, head.run.weightMicro)) missedStarts++;
    } else if (policy === Policy.COUNT_LIMITED_FIFO) {
      let taken = 0;
      while (taken < pool.waiting.length) {
        decisions++;
        if (pool.running >= COUNT_SLOTS) break;
        start(pool, (pool.waiting[taken] as Waiting).run, nowMs);
        taken++;
      }
      if (taken > 0) pool.waiting.splice(0, taken);
    }
  };

  for (let event = heap.pop(); event !== undefined; event = heap.pop()) {
    const { run, atMs } = event;
    const pool = poolOf(run.poolId);
    advance(pool, atMs);
    if (event.kind === FINISH) {
      pool.usedMicro -= run.weightMicro;
      pool.running--;
      schedule(pool, atMs);
      continue;
    }
    if (event.kind === ARRIVAL) pool.pending++;
    if (policy === Policy.UNORDERED_RETRY) {
      decisions++;
      const decisionStarted = performance.now();
      const fitsNow = fits(pool.usedMicro, run.weightMicro);
      schedulingMs += performance.now() - decisionStarted;
      if (fitsNow) {
        start(pool, run, atMs);
      } else {
        const backoff = Math.min(RETRY_BACKOFF_MS.cap, RETRY_BACKOFF_MS.first * 2 ** Math.min(event.attempt, 20));
        const delay = Math.round(backoff * (0.5 + random() / 2));
        heap.push({ atMs: atMs + delay, kind: RETRY, seq: seq++, run, attempt: event.attempt + 1 });
      }
      continue;
    }
    const key =
      policy === Policy.STRICT_PRIORITY_FIFO
        ? queueKeyFor(run.priority, run.arrivalMs, run.runId)
        : queueKeyFor(0, run.arrivalMs, run.runId);
    insertSorted(pool.waiting, { key, run });
    schedule(pool, atMs);
  }
  let span = 0;
  let used = 0;
  let over = 0;
  for (const pool of pools.values()) {
    span += pool.waitingSpanMs;
    used += pool.usedWhileWaiting;
    over += pool.overBudgetMs;
  }
  return {
    policy,
    waitsMs,
    wholeBudgetWaitsMs,
    utilisationWhileWaiting: span === 0 ? 0 : used / (CLASS_BUDGET_MICRO * span),
    overBudgetShare: span === 0 ? 0 : over / span,
    maxUsedMicro,
    decisions,
    schedulingMs,
    elapsedMs: performance.now() - started,
    missedStarts,
  };
}

function insertSorted(queue: Waiting[], entry: Waiting): void {
  let low = 0;
  let high = queue.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((queue[mid] as Waiting).key < entry.key) low = mid + 1;
    else high = mid;
  }
  queue.splice(low, 0, entry);
}
