import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MASK, SecretMasker } from "../../task-image/src/mask-secrets.js";
import { OutputTail } from "../../task-image/src/output-tail.js";

describe("SecretMasker", () => {
  it("masks every occurrence, the longest value first", () => {
    const masker = new SecretMasker(["abc", "abcdef"]);
    expect(masker.mask("x abcdef y abc z")).toBe(`x ${MASK} y ${MASK} z`);
  });

  it("masks a value's JSON-escaped form and each line of a multi-line value", () => {
    const value = 'line "one"\nline two\\';
    const masker = new SecretMasker([value]);
    expect(masker.mask(JSON.stringify({ v: value }))).toBe(`{"v":"${MASK}"}`);
    expect(masker.mask("key: line two\\ end")).toBe(`key: ${MASK} end`);
    expect(masker.mask(`raw ${value}`)).toBe(`raw ${MASK}`);
  });

  it("ignores empty values and escapes regular-expression characters", () => {
    const masker = new SecretMasker(["", "a.b*c"]);
    expect(masker.mask("axbbc a.b*c")).toBe(`axbbc ${MASK}`);
  });

  it("holds back only a tail that could start a secret", () => {
    const stream = new SecretMasker(["hunter2"]).createStream();
    expect(stream.push("password is hun")).toBe("password is ");
    expect(stream.push("ter2, ok\n")).toBe(`${MASK}, ok\n`);
    expect(stream.push("no secret here\n")).toBe("no secret here\n");
    expect(stream.push("ends with h")).toBe("ends with ");
    expect(stream.end()).toBe("h");
  });

  const streamed = (masker: SecretMasker, text: string, cuts: number[]) => {
    const stream = masker.createStream();
    const positions = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
    let out = "";
    let from = 0;
    for (const at of [...positions, text.length]) {
      out += stream.push(text.slice(from, at));
      from = at;
    }
    return out + stream.end();
  };
  const textWith = (secrets: string[], pieces: (string | number)[]) =>
    pieces.map((p) => (typeof p === "number" ? (secrets[p % secrets.length] ?? "") : p)).join("");
  const pieces = fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.nat({ max: 2 })), { maxLength: 12 });
  const cuts = fc.array(fc.nat({ max: 40 }), { maxLength: 8 });
  const secret = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes("*"));

  it("masks one secret in a stream cut anywhere exactly as in the whole text", () => {
    // A value that is its own JSON escape and one line: the masker looks for that one string only.
    const plain = secret.filter((s) => JSON.stringify(s).slice(1, -1) === s && !/[\r\n]/.test(s));
    fc.assert(
      fc.property(plain, pieces, cuts, (value, parts, at) => {
        const masker = new SecretMasker([value]);
        const text = textWith([value], parts);
        expect(streamed(masker, text, at)).toBe(masker.mask(text));
      }),
      { numRuns: 500 },
    );
  });

  it("never lets any of several secrets through, however the stream is cut", () => {
    // With overlapping values a cut may mask a different (shorter) match than the whole text would; what
    // must hold is that no value survives.
    fc.assert(
      fc.property(fc.array(secret, { minLength: 1, maxLength: 3 }), pieces, cuts, (values, parts, at) => {
        const out = streamed(new SecretMasker(values), textWith(values, parts), at);
        for (const value of values) expect(out).not.toContain(value);
      }),
      { numRuns: 500 },
    );
  });
});

describe("OutputTail", () => {
  it("keeps the last bytes, cut on a character boundary, and says when it dropped some", () => {
    const tail = new OutputTail(10);
    tail.append("0123456789");
    expect(tail.text()).toBe("0123456789");
    expect(tail.truncated()).toBe(false);
    tail.append("é€x");
    // 16 bytes in all; the last 10 are "6789" + "é" (2 bytes) + "€" (3 bytes) + "x".
    expect(tail.text()).toBe("6789é€x");
    expect(Buffer.byteLength(tail.text())).toBe(10);
    expect(tail.truncated()).toBe(true);
  });

  it("never splits a character at the cut", () => {
    const tail = new OutputTail(4);
    tail.append("a€€");
    // 7 bytes; dropping 3 would split the first "€", so the cut moves past it.
    expect(tail.text()).toBe("€");
    expect(tail.truncated()).toBe(true);
  });
});
