/**
 * A small least-recently-used cache. Task hub names come from requests (`?taskHub=`), so per-hub objects are
 * kept in one of these rather than a map that grows with every name ever asked for.
 */
/** Most per-hub objects a store or host keeps at once. */
export const MAX_CACHED_HUBS = 64;

/** Keeps the `capacity` most recently used values by key. */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  /** The cached value of `key` (now the most recent), or the one `create` makes and caches. */
  getOrCreate(key: K, create: () => V): V {
    const found = this.#entries.get(key);
    if (found !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, found);
      return found;
    }
    if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value as K);
    const value = create();
    this.#entries.set(key, value);
    return value;
  }

  /** The cached values, least recent first. */
  values(): IterableIterator<V> {
    return this.#entries.values();
  }

  get size(): number {
    return this.#entries.size;
  }
}
