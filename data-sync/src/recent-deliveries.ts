// The webhook deliveries seen lately (by X-GitHub-Delivery), so a replay or a redelivery of the same
// delivery does not start another sync. Bounded: at most `max` ids, each for `windowMs`.

export interface RecentDeliveries {
  /** Whether `id` was seen within the window; remembers it when it was not. */
  seen(id: string): boolean;
  /** How many ids are remembered now. */
  size(): number;
}

export interface RecentDeliveriesOptions {
  windowMs: number;
  max: number;
  now?: () => number;
}

/** A memory of delivery ids: the oldest is forgotten first, and none outlives the window. */
export function createRecentDeliveries(options: RecentDeliveriesOptions): RecentDeliveries {
  const now = options.now ?? Date.now;
  // Insertion order is arrival order: the first entries are the oldest.
  const seenAt = new Map<string, number>();
  const forgetOld = (at: number) => {
    for (const [id, when] of seenAt) {
      if (at - when < options.windowMs && seenAt.size <= options.max) break;
      seenAt.delete(id);
    }
  };
  return {
    seen(id) {
      const at = now();
      forgetOld(at);
      if (seenAt.has(id)) return true;
      seenAt.set(id, at);
      forgetOld(at);
      return false;
    },
    size: () => seenAt.size,
  };
}
