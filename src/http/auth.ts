/** Who a request is, as far as SPEC §5 is concerned. */
export type Access = "full" | "read" | "none";

/** How requests prove who they are. */
export interface AuthPolicy {
  token: string | undefined;
  readonlyToken: string | undefined;
  /** With no token configured: whether a request from this client may pass. */
  anonymous: "allow" | "loopback" | "deny";
}

/**
 * Compares a given secret with a configured one in time that depends only on their lengths, not
 * on where they differ (UTF-16 code units: equal strings, equal units).
 */
export function safeEqual(given: string, secret: string): boolean {
  const x = given.length;
  const y = secret.length;
  let diff = x ^ y;
  const n = Math.max(x, y);
  for (let i = 0; i < n; i++) diff |= given.charCodeAt(i % (x || 1)) ^ secret.charCodeAt(i % (y || 1));
  return diff === 0;
}

/** Whether an address is the loopback interface (127.0.0.0/8 or ::1). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1" || v4 === "localhost";
}

/** The access an `Authorization` header grants. */
export function authenticate(
  policy: AuthPolicy,
  header: string | undefined,
  remoteAddress: string | undefined,
  proxied = false,
): Access {
  if (policy.token === undefined && policy.readonlyToken === undefined) {
    if (policy.anonymous === "allow") return "full";
    // A request a local reverse proxy forwards arrives from loopback, but its client is not local.
    if (policy.anonymous === "loopback" && isLoopback(remoteAddress) && !proxied) return "full";
    return "none";
  }
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  const given = match?.[1];
  if (given === undefined) return "none";
  if (policy.token !== undefined && safeEqual(given, policy.token)) return "full";
  if (policy.readonlyToken !== undefined && safeEqual(given, policy.readonlyToken)) return "read";
  return "none";
}
