/** What every masked secret value is replaced with, as DataHub's own masking does. */
export const MASK = "********";

/**
 * Replaces secret values in everything the task writes. Each value is also masked in its JSON-escaped form
 * (how it appears inside the structured report) and, for values spanning lines, line by line (how a
 * logger that splits lines would print it).
 */
export class SecretMasker {
  private readonly needles: string[];
  private readonly pattern: RegExp | undefined;

  constructor(values: Iterable<string>) {
    const needles = new Set<string>();
    for (const value of values) {
      if (value === "") continue;
      needles.add(value);
      needles.add(JSON.stringify(value).slice(1, -1));
      for (const line of value.split(/\r?\n/)) if (line.trim() !== "") needles.add(line);
    }
    // Longest first, so a value containing another is masked whole.
    this.needles = [...needles].sort((a, b) => b.length - a.length);
    this.pattern = this.needles.length === 0 ? undefined : new RegExp(this.needles.map(escapeRegExp).join("|"), "g");
  }

  mask(text: string): string {
    return this.pattern === undefined ? text : text.replace(this.pattern, MASK);
  }

  /**
   * For a stream cut into arbitrary chunks: masks what can be masked now and holds back only a tail that
   * could be the start of a secret, so a value split across two chunks is still caught.
   */
  createStream(): StreamMasker {
    return new StreamMasker(this);
  }

  /** The length of the longest suffix of `text` that is a proper prefix of some secret. */
  heldBackLength(text: string): number {
    let held = 0;
    for (const needle of this.needles) {
      const first = needle[0];
      const from = Math.max(0, text.length - needle.length + 1);
      for (let p = from; p < text.length; p++) {
        if (text.length - p <= held) break;
        if (text[p] === first && needle.startsWith(text.slice(p))) {
          held = text.length - p;
          break;
        }
      }
    }
    return held;
  }
}

export class StreamMasker {
  private pending = "";

  constructor(private readonly masker: SecretMasker) {}

  /** Masked text that is safe to write now. */
  push(chunk: string): string {
    const masked = this.masker.mask(this.pending + chunk);
    const held = this.masker.heldBackLength(masked);
    this.pending = masked.slice(masked.length - held);
    return masked.slice(0, masked.length - held);
  }

  /** Whatever was held back, once the stream has ended. */
  end(): string {
    const rest = this.masker.mask(this.pending);
    this.pending = "";
    return rest;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
