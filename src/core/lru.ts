/** An entry, linked into the recency list (most recent after the head, least before it). */
interface Node<V> {
  key: string;
  value: V;
  prev: Node<V>;
  next: Node<V>;
}

/**
 * A map that keeps its keys in order of use and drops the least recently used past `max`.
 * Recency is a linked list beside the map, so a use moves pointers and never touches the map:
 * moving a key to the end of a `Map` (delete, then set) leaves a deleted entry in that key's
 * hash chain each time, and V8 walks all of them on the next lookup, so a hot key of a full map
 * cost tens of microseconds a use (BENCHMARKS.md).
 */
export class LruMap<V> {
  readonly #max: number;
  readonly #onEvict: ((key: string, value: V) => void) | undefined;
  readonly #nodes = new Map<string, Node<V>>();
  /** The sentinel: `head.next` is the most recent entry, `head.prev` the least. */
  readonly #head: Node<V>;

  constructor(max: number, onEvict?: (key: string, value: V) => void) {
    this.#max = max;
    this.#onEvict = onEvict;
    const head = { key: "" } as Node<V>;
    head.prev = head;
    head.next = head;
    this.#head = head;
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** The value of `key`, leaving its recency as it is. */
  peek(key: string): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** Marks `key` as just used; false when it is not there. */
  touch(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#toFront(node);
    return true;
  }

  /** Sets `key` as the most recently used entry; the least recently used go past `max`. */
  set(key: string, value: V): void {
    const head = this.#head;
    const found = this.#nodes.get(key);
    if (found !== undefined) {
      found.value = value;
      this.#toFront(found);
      return;
    }
    const node: Node<V> = { key, value, prev: head, next: head.next };
    head.next.prev = node;
    head.next = node;
    this.#nodes.set(key, node);
    while (this.#nodes.size > this.#max) {
      const oldest = head.prev;
      this.#unlink(oldest);
      this.#nodes.delete(oldest.key);
      this.#onEvict?.(oldest.key, oldest.value);
    }
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    return this.#nodes.delete(key);
  }

  clear(): void {
    this.#nodes.clear();
    this.#head.prev = this.#head;
    this.#head.next = this.#head;
  }

  #unlink(node: Node<V>): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
  }

  #toFront(node: Node<V>): void {
    const head = this.#head;
    if (head.next === node) return;
    this.#unlink(node);
    node.prev = head;
    node.next = head.next;
    head.next.prev = node;
    head.next = node;
  }
}
