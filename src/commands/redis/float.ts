/**
 * INCRBYFLOAT's arithmetic exactly as Redis 7 does it on x86-64: operands are read into long
 * doubles (x87 extended precision, a 64-bit mantissa, correctly rounded), added with
 * round-to-nearest-even, and written with 17 decimals, trailing zeros removed (Redis's
 * `ld2string` in human mode). So "1" + "0.1" answers "1.1", and 52785 + 5e-3 answers
 * "52785.00499999999999901", as Redis does. The long doubles are emulated with BigInt.
 */

/** A long double: `mantissa` × 2^`exponent`, the mantissa at most 64 bits, its sign apart. */
export interface LongDouble {
  negative: boolean;
  mantissa: bigint;
  exponent: number;
}

const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BITS = 64;
const DECIMALS = 17;
/** Past this binary exponent a long double overflows (its largest is just under 2^16384). */
const MAX_EXPONENT = 16384;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** num / den rounded to the nearest integer, ties to even. */
function divideEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = (num % den) * 2n;
  return r2 > den || (r2 === den && q % 2n === 1n) ? q + 1n : q;
}

/** The long double nearest to num / den (both positive, or num 0). */
function nearest(negative: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { negative, mantissa: 0n, exponent: 0 };
  let exponent = bitLength(num) - bitLength(den) - BITS;
  for (;;) {
    const mantissa =
      exponent <= 0 ? divideEven(num << BigInt(-exponent), den) : divideEven(num, den << BigInt(exponent));
    if (bitLength(mantissa) > BITS) exponent++;
    else if (bitLength(mantissa) < BITS) exponent--;
    else return { negative, mantissa, exponent };
  }
}

/** A float argument or stored value as Redis reads one (no spaces, no trailing text), or undefined. */
export function parseLongDouble(text: string): LongDouble | undefined {
  const match = FLOAT.exec(text);
  if (match === null) return undefined;
  const mantissa = match[1] as string;
  const power = Number((match[2] ?? "e0").slice(1));
  if (Math.abs(power) > 5000) return undefined;
  const point = mantissa.indexOf(".");
  const digits = BigInt(point < 0 ? mantissa : mantissa.slice(0, point) + mantissa.slice(point + 1));
  const scale = (point < 0 ? 0 : mantissa.length - point - 1) - power;
  const negative = text.startsWith("-");
  const value =
    scale <= 0
      ? nearest(negative, digits * 10n ** BigInt(-scale), 1n)
      : nearest(negative, digits, 10n ** BigInt(scale));
  return value.mantissa !== 0n && value.exponent + BITS > MAX_EXPONENT ? undefined : value;
}

/** The long double sum, rounded to nearest even; undefined when it overflows (Infinity). */
export function addLongDoubles(a: LongDouble, b: LongDouble): LongDouble | undefined {
  const exponent = Math.min(a.exponent, b.exponent);
  const signed = (x: LongDouble) => (x.negative ? -x.mantissa : x.mantissa) << BigInt(x.exponent - exponent);
  const sum = signed(a) + signed(b);
  const negative = sum < 0n;
  const magnitude = negative ? -sum : sum;
  const out =
    exponent >= 0
      ? nearest(negative, magnitude << BigInt(exponent), 1n)
      : nearest(negative, magnitude, 1n << BigInt(-exponent));
  return out.mantissa !== 0n && out.exponent + BITS > MAX_EXPONENT ? undefined : out;
}

/** The long double written as `%.17Lf` (exact value, rounded to nearest even), zeros trimmed. */
export function formatLongDouble(x: LongDouble): string {
  const scaled =
    x.exponent >= 0
      ? (x.mantissa << BigInt(x.exponent)) * 10n ** BigInt(DECIMALS)
      : divideEven(x.mantissa * 10n ** BigInt(DECIMALS), 1n << BigInt(-x.exponent));
  const text = scaled.toString().padStart(DECIMALS + 1, "0");
  const whole = text.slice(0, text.length - DECIMALS);
  const fraction = text.slice(text.length - DECIMALS).replace(/0+$/, "");
  const out = fraction === "" ? whole : `${whole}.${fraction}`;
  return x.negative && out !== "0" ? `-${out}` : out;
}

/** Zero, as a long double. */
export const ZERO: LongDouble = { negative: false, mantissa: 0n, exponent: 0 };

/** A float result as the native view keeps it: a JSON number when that prints the same text. */
export function numberOrText(text: string): number | string {
  const n = Number(text);
  return Number.isFinite(n) && JSON.stringify(n) === text ? n : text;
}
