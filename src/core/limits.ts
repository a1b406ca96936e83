/** Longest key or hash field, in UTF-8 bytes (`KVMaxKeyLength`). */
export const MAX_KEY_BYTES = 256;
/** Largest JSON encoding of one value, in UTF-8 bytes (`KVMaxValueSize`). */
export const MAX_VALUE_BYTES = 1_048_576;
/** Largest request body, in bytes. */
export const MAX_BODY_BYTES = 16 * 1_048_576;
/** Most keys (or fields) in one batch. */
export const MAX_BATCH = 1000;
/** Largest TTL in milliseconds (2^40, about 34 years). */
export const MAX_TTL_MS = 2 ** 40;
/** Largest magnitude of a counter. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;
/** Most keys in one page of `keys`. */
export const MAX_KEYS_LIMIT = 1000;
/** Deepest nesting of arrays and objects in a request body (the value sits one level down). */
export const MAX_JSON_DEPTH = 1000;
/** Longest `keys` pattern, in characters. */
export const MAX_PATTERN_LENGTH = 1024;
