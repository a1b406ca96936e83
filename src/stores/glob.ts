/** Escapes the Redis glob characters of a literal, so `list("a*")` lists keys starting with `a*`. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, "\\$&");
}
