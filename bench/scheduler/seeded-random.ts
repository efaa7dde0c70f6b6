/** mulberry32: a small, fast, seeded generator; the same seed always gives the same trace. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box-Muller). */
export function normal(random: () => number): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function pickWeighted<T>(random: () => number, choices: readonly { value: T; weight: number }[]): T {
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  let at = random() * total;
  for (const choice of choices) {
    at -= choice.weight;
    if (at < 0) return choice.value;
  }
  const last = choices.at(-1);
  if (last === undefined) throw new RangeError("no choices");
  return last.value;
}
