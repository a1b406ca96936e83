import { describe, expect, it } from "vitest";
import { byteLength, compareBytes } from "../../src/core/bytes.ts";

const SAMPLES = [
  "",
  "a",
  "B",
  "é",
  "\u00ff",
  "\u0800",
  "\uffff",
  "\ue000",
  "😀",
  "𝄞",
  "\ud7ff",
  "a😀",
  "a\uffff",
  "ab",
  "\u0000",
  "z",
];

describe("byte order and byte length without encoding", () => {
  it("agree with the UTF-8 bytes of every pair of samples", () => {
    for (const a of SAMPLES) {
      expect(byteLength(a), JSON.stringify(a)).toBe(Buffer.byteLength(a));
      for (const b of SAMPLES) {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(Math.sign(compareBytes(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(bytes);
      }
    }
  });
});
