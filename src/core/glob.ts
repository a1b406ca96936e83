/** A compiled Redis glob pattern: a matcher and the literal prefix every match starts with. */
export interface Glob {
  test(key: string): boolean;
  /** The characters every matching key begins with (lets a database scan a key range). */
  prefix: string;
}

/** One step of a pattern: a run of any characters, one character of a set, or a literal. */
type Token =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "literal"; char: string }
  | { kind: "class"; negate: boolean; chars: string[]; ranges: [number, number][] };

/** What `?` and a class match: one character (a code point, SPEC §3) or one UTF-8 byte (Redis). */
export type GlobUnit = "characters" | "bytes";

const ENCODER = new TextEncoder();

/** A string as its units: code points, or its UTF-8 bytes each as the character of that code. */
function unitsOf(s: string, unit: GlobUnit): string[] {
  if (unit === "characters") return Array.from(s);
  return Array.from(ENCODER.encode(s), (b) => String.fromCharCode(b));
}

/**
 * Compiles a Redis glob pattern (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x` escapes `x`). `?` and
 * a class match one character (a code point), or with `unit` "bytes" one UTF-8 byte as Redis
 * matches. Matching takes at most O(pattern × key) steps, whatever the pattern: no
 * backtracking blow-up on patterns such as `*a*a*a*b`.
 */
export function compileGlob(pattern: string, unit: GlobUnit = "characters"): Glob {
  const tokens = tokenize(unitsOf(pattern, unit));
  let prefix = "";
  for (const token of tokens) {
    if (token.kind !== "literal") break;
    prefix += token.char;
  }
  if (unit === "bytes") {
    // Back to text, leaving out a character the literal bytes end in the middle of.
    const bytes = Uint8Array.from(prefix, (c) => c.charCodeAt(0));
    prefix = new TextDecoder().decode(bytes, { stream: true });
  }
  return { test: (key) => matches(tokens, unitsOf(key, unit)), prefix };
}

function tokenize(chars: string[]): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "*") {
      if (tokens[tokens.length - 1]?.kind !== "star") tokens.push({ kind: "star" });
    } else if (c === "?") {
      tokens.push({ kind: "any" });
    } else if (c === "[" && classEnd(chars, i) > 0) {
      const end = classEnd(chars, i);
      tokens.push(parseClass(chars.slice(i + 1, end)));
      i = end;
    } else if (c === "\\" && i + 1 < chars.length) {
      i++;
      tokens.push({ kind: "literal", char: chars[i] as string });
    } else {
      tokens.push({ kind: "literal", char: c });
    }
  }
  return tokens;
}

function classEnd(chars: string[], start: number): number {
  let i = start + 1;
  if (chars[i] === "^") i++;
  for (; i < chars.length; i++) {
    if (chars[i] === "\\") i++;
    else if (chars[i] === "]" && i > start + 1) return i;
  }
  return -1;
}

function parseClass(body: string[]): Token {
  const token: Extract<Token, { kind: "class" }> = { kind: "class", negate: false, chars: [], ranges: [] };
  let i = 0;
  if (body[0] === "^") {
    token.negate = true;
    i = 1;
  }
  for (; i < body.length; i++) {
    let c = body[i] as string;
    if (c === "\\" && i + 1 < body.length) c = body[++i] as string;
    if (body[i + 1] === "-" && i + 2 < body.length) {
      let hi = body[i + 2] as string;
      i += 2;
      if (hi === "\\" && i + 1 < body.length) hi = body[++i] as string;
      const a = c.codePointAt(0) as number;
      const b = hi.codePointAt(0) as number;
      // Redis accepts reversed ranges such as [z-a].
      token.ranges.push(a <= b ? [a, b] : [b, a]);
    } else {
      token.chars.push(c);
    }
  }
  return token;
}

function matchesOne(token: Token, c: string): boolean {
  switch (token.kind) {
    case "any":
      return true;
    case "literal":
      return token.char === c;
    case "class": {
      const code = c.codePointAt(0) as number;
      const hit = token.chars.includes(c) || token.ranges.some(([lo, hi]) => code >= lo && code <= hi);
      return hit !== token.negate;
    }
    default:
      return false;
  }
}

/** Wildcard matching that only ever returns to the last star: O(tokens × chars). */
function matches(tokens: Token[], chars: string[]): boolean {
  let t = 0;
  let c = 0;
  let star = -1;
  let resume = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token?.kind === "star") {
      star = t++;
      resume = c;
    } else if (token !== undefined && matchesOne(token, chars[c] as string)) {
      t++;
      c++;
    } else if (star >= 0) {
      t = star + 1;
      c = ++resume;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}
/** Escapes the Redis glob characters of a literal, so `list("a*")` lists keys starting with `a*`. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, "\\$&");
}
