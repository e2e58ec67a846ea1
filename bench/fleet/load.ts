// Open-loop load: polls arrive at a fixed average rate (Poisson arrivals, as a fleet's independent
// timers make them), whatever the source's answers take; each arrival is handed to an idle client
// (a real sync engine, or an HTTP client), or waits for one. Latency counts from the arrival, so a
// source that falls behind shows it.
import { performance } from 'node:perf_hooks';

/** A small seeded generator (mulberry32): the same arrivals in every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LoadResult<T> {
  results: T[];
  /** Milliseconds from each arrival to its answer. */
  latencies: number[];
  /** Arrivals that found every client busy. */
  queued: number;
  wallMs: number;
}

/**
 * Sends `count` arrivals at `ratePerSecond` (exponential gaps) to `clients` (each runs one poll at a
 * time) and waits for every answer.
 */
export async function runOpenLoop<T>(options: {
  clients: ReadonlyArray<() => Promise<T>>;
  ratePerSecond: number;
  count: number;
  random: () => number;
  /** Each client answers one arrival only (count = clients: every client polls once). */
  oncePerClient?: boolean;
}): Promise<LoadResult<T>> {
  const { clients, ratePerSecond, count, random } = options;
  const idle = clients.map((_, i) => i);
  const waiting: number[] = [];
  const results: T[] = [];
  const latencies: number[] = [];
  let queued = 0;
  let pending = 0;
  let arrived = 0;
  const t0 = performance.now();
  let finishAll: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finishAll = resolve));
  let failure: unknown;

  const start = (client: number, arrival: number) => {
    pending++;
    clients[client]!()
      .then(
        (r) => {
          results.push(r);
          latencies.push(performance.now() - arrival);
        },
        (error: unknown) => (failure ??= error),
      )
      .finally(() => {
        pending--;
        const next = options.oncePerClient ? undefined : waiting.shift();
        if (next !== undefined) start(client, next);
        else if (!options.oncePerClient)
          idle.splice(Math.floor(random() * (idle.length + 1)), 0, client);
        if (arrived === count && pending === 0 && waiting.length === 0) finishAll();
      });
  };

  let due = t0;
  for (let i = 0; i < count; i++) {
    due += (-Math.log(1 - random()) / ratePerSecond) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    arrived++;
    const arrival = due;
    const client = idle.length ? idle.splice(Math.floor(random() * idle.length), 1)[0]! : undefined;
    if (client === undefined) {
      queued++;
      waiting.push(arrival);
    } else start(client, arrival);
  }
  if (pending > 0 || waiting.length > 0) await allDone;
  if (failure !== undefined) throw failure;
  return { results, latencies, queued, wallMs: performance.now() - t0 };
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

/** The q-quantile (nearest rank) of xs; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
