/** The read-through cacher over any `Store`. */
export {
  type BatchFallback,
  type Cacher,
  type CacherOptions,
  type CallOptions,
  createCacher,
  type DistributedOptions,
  type Fallback,
  type GraceOptions,
} from "./cacher.ts";
