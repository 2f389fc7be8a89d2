interface Slot<V> {
  value: V;
  expiresAt: number;
  weight: number;
  /** Read since the eviction hand last passed it: it gets a second chance instead of being evicted. */
  used: boolean;
}

/**
 * A bounded map with per-entry expiry, bounded by entries and optionally by total weight (e.g. estimated
 * bytes), evicting by second chance (CLOCK): the oldest entry goes first unless it was read since the
 * eviction hand last passed it, in which case it moves to the back once. That approximates LRU.
 *
 * Why not a true LRU: re-inserting on every read (Map delete + set) leaves a deleted copy of the key in the
 * same hash bucket each time, so in V8 a hot key in a 10,000-entry Map costs ~24 µs a read until the table
 * is rehashed. A read here is one `Map.get` and a flag write; the Map is only mutated on insert and eviction.
 */
export class Lru<K, V> {
  readonly #entries = new Map<K, Slot<V>>();
  readonly #maxEntries: number;
  readonly #maxWeight: number;
  #weight = 0;
  // The eviction hand: a live iterator, so it never rescans the deleted slots it already passed.
  #hand: Iterator<[K, Slot<V>]> | undefined;

  constructor(maxEntries: number, maxWeight = Number.POSITIVE_INFINITY) {
    this.#maxEntries = Math.max(1, Math.floor(maxEntries));
    this.#maxWeight = maxWeight;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Sum of the weights of the entries held. */
  get weight(): number {
    return this.#weight;
  }

  get(key: K, now = Date.now()): V | undefined {
    const slot = this.#entries.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now) {
      this.#remove(key, slot);
      return undefined;
    }
    slot.used = true;
    return slot.value;
  }

  /** Whether `key` is held (expired or not), without touching its recency. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  set(key: K, value: V, expiresAt: number, weight = 0): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    this.#entries.set(key, { value, expiresAt, weight, used: false });
    this.#weight += weight;
    this.#evict();
  }

  delete(key: K): boolean {
    const slot = this.#entries.get(key);
    if (slot === undefined) return false;
    this.#remove(key, slot);
    return true;
  }

  clear(): void {
    this.#entries.clear();
    this.#weight = 0;
    this.#hand = undefined;
  }

  #remove(key: K, slot: Slot<V>): void {
    this.#entries.delete(key);
    this.#weight -= slot.weight;
  }

  #evict(): void {
    const now = Date.now();
    while (this.#entries.size > this.#maxEntries || this.#weight > this.#maxWeight) {
      let step = this.#hand?.next();
      if (step === undefined || step.done) {
        this.#hand = this.#entries.entries();
        step = this.#hand.next();
        if (step.done) return;
      }
      const [key, slot] = step.value;
      this.#entries.delete(key);
      if (slot.used && slot.expiresAt > now) {
        // Second chance: to the back, behind the hand; it is evicted when the hand comes round again unread.
        slot.used = false;
        this.#entries.set(key, slot);
      } else {
        this.#weight -= slot.weight;
      }
    }
  }
}
