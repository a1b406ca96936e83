/** A compiled Redis glob pattern: a matcher and the literal prefix every match starts with. */
export interface Glob {
  test(key: string): boolean;
  /** The characters every matching key begins with (lets a database scan a key range). */
  prefix: string;
}

/**
 * Compiles a Redis glob pattern (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x` escapes `x`).
 * `?` and `*` count characters (code points), not bytes.
 */
export function compileGlob(pattern: string): Glob {
  const chars = Array.from(pattern);
  let re = "";
  let prefix = "";
  let literal = true;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "*") {
      re += "[\\s\\S]*";
      literal = false;
    } else if (c === "?") {
      re += "[\\s\\S]";
      literal = false;
    } else if (c === "[") {
      const end = classEnd(chars, i);
      if (end < 0) {
        re += escapeRe(c);
        if (literal) prefix += c;
        continue;
      }
      re += classRe(chars.slice(i + 1, end));
      i = end;
      literal = false;
    } else if (c === "\\" && i + 1 < chars.length) {
      i++;
      const next = chars[i] as string;
      re += escapeRe(next);
      if (literal) prefix += next;
    } else {
      re += escapeRe(c);
      if (literal) prefix += c;
    }
  }
  const regex = new RegExp(`^${re}$`, "u");
  return { test: (key) => regex.test(key), prefix };
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

function classRe(body: string[]): string {
  let out = "[";
  let i = 0;
  if (body[0] === "^") {
    out += "^";
    i = 1;
  }
  for (; i < body.length; i++) {
    let c = body[i] as string;
    if (c === "\\" && i + 1 < body.length) {
      i++;
      c = body[i] as string;
    }
    if (body[i + 1] === "-" && i + 2 < body.length) {
      let hi = body[i + 2] as string;
      let skip = 2;
      if (hi === "\\" && i + 3 < body.length) {
        hi = body[i + 3] as string;
        skip = 3;
      }
      // Redis accepts reversed ranges such as [z-a].
      const [lo, up] = ordered(c, hi);
      out += `${escapeClass(lo)}-${escapeClass(up)}`;
      i += skip;
    } else {
      out += escapeClass(c);
    }
  }
  return `${out}]`;
}

function ordered(a: string, b: string): [string, string] {
  return (a.codePointAt(0) as number) <= (b.codePointAt(0) as number) ? [a, b] : [b, a];
}

function escapeRe(c: string): string {
  // Only characters that are special outside a class: in "u" mode, escaping others is an error.
  return c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function escapeClass(c: string): string {
  return c.replace(/[\\\]^[-]/g, "\\$&");
}
