// The fast path's memory: cached entries by request path, bounded by bytes, evicted by a
// second-chance clock (a hit only sets a flag, so hits stay cheap).
import type { CacheEntry } from './cache-entry.js';

/** Bookkeeping added to each entry's body bytes (headers, key, objects). */
const ENTRY_OVERHEAD = 512;

/** A byte-bounded map of request path → cached entry. */
export class FileCache {
  private readonly entries = new Map<string, CacheEntry>();
  private usedBytes = 0;

  constructor(readonly maxBytes: number) {}

  /** The entry for `key`, marking it recently used. */
  get(key: string): CacheEntry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) entry.hot = true;
    return entry;
  }

  /** Stores `entry` under `key`, evicting cold entries to stay within the budget. */
  set(key: string, entry: CacheEntry): void {
    const size = entry.bytes + ENTRY_OVERHEAD + key.length;
    if (size > this.maxBytes) return;
    this.delete(key);
    let guard = this.entries.size * 2 + 1;
    while (this.usedBytes + size > this.maxBytes && guard-- > 0) this.evictOne();
    this.entries.set(key, entry);
    this.usedBytes += size;
  }

  /** Forgets one key. */
  delete(key: string): void {
    const old = this.entries.get(key);
    if (old === undefined) return;
    this.entries.delete(key);
    this.usedBytes -= old.bytes + ENTRY_OVERHEAD + key.length;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.usedBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  private evictOne(): void {
    for (const [key, entry] of this.entries) {
      this.entries.delete(key);
      if (entry.hot) {
        entry.hot = false;
        this.entries.set(key, entry); // second chance: to the back of the queue
        return;
      }
      this.usedBytes -= entry.bytes + ENTRY_OVERHEAD + key.length;
      return;
    }
  }
}
