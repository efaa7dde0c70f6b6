/** The last `limitBytes` of a text stream (UTF-8), never splitting a character. */
export class OutputTail {
  private chunks: string[] = [];
  private bytes = 0;
  private dropped = false;

  constructor(private readonly limitBytes: number) {}

  append(text: string): void {
    if (text === "") return;
    this.chunks.push(text);
    this.bytes += Buffer.byteLength(text, "utf8");
    while (this.bytes > this.limitBytes) {
      const first = this.chunks[0] ?? "";
      const firstBytes = Buffer.byteLength(first, "utf8");
      this.dropped = true;
      if (this.bytes - firstBytes >= this.limitBytes) {
        this.chunks.shift();
        this.bytes -= firstBytes;
        continue;
      }
      const kept = dropLeadingBytes(first, this.bytes - this.limitBytes);
      this.chunks[0] = kept;
      this.bytes -= firstBytes - Buffer.byteLength(kept, "utf8");
    }
  }

  text(): string {
    return this.chunks.join("");
  }

  /** True when older output was left out. */
  truncated(): boolean {
    return this.dropped;
  }
}

/** `text` without at least its first `count` bytes, cut after a whole character. */
function dropLeadingBytes(text: string, count: number): string {
  const buffer = Buffer.from(text, "utf8");
  let start = count;
  // Step past UTF-8 continuation bytes so the cut lands on a character boundary.
  while (start < buffer.length && ((buffer[start] ?? 0) & 0xc0) === 0x80) start++;
  return buffer.subarray(start).toString("utf8");
}
