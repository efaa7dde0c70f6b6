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
    while (this.bytes > this.limitBytes && this.chunks.length > 1) {
      const first = this.chunks.shift() ?? "";
      this.bytes -= Buffer.byteLength(first, "utf8");
      this.dropped = true;
    }
  }

  text(): string {
    const all = this.chunks.join("");
    if (this.bytes <= this.limitBytes) return all;
    this.dropped = true;
    const buffer = Buffer.from(all, "utf8");
    let start = buffer.length - this.limitBytes;
    // Step past UTF-8 continuation bytes so the cut lands on a character boundary.
    while (start < buffer.length && ((buffer[start] ?? 0) & 0xc0) === 0x80) start++;
    return buffer.subarray(start).toString("utf8");
  }

  /** True when older output was left out. */
  truncated(): boolean {
    return this.dropped || this.bytes > this.limitBytes;
  }
}
