// The rollout of one change to a whole fleet, modelled from measured figures. Each instance waits
// its own random delay in [0, jitter) after the cron tick (as data-sync/src/schedule.ts picks it,
// once per instance), then syncs. The source is one core that serves fetches first come, first
// served, each costing the CPU one fetch was measured to cost; the rest of a sync (the client's
// own work, the network) takes what a real engine took on an idle source. Pure.

export interface RolloutInput {
  instances: number;
  jitterMs: number;
  /** Source CPU per changed fetch (seconds of one core). */
  fetchCpuS: number;
  /** Wall time of a real engine's sync of the change on an idle source (ms). */
  syncMs: number;
  /** Cores of the source. */
  cores: number;
  random: () => number;
}

export interface Rollout {
  /** From the tick until the last instance serves the change (ms). */
  lastServedMs: number;
  /** The longest wait for the source (ms). */
  maxQueueMs: number;
  /** The most fetches in flight at once. */
  peakConcurrent: number;
  /** Share of the window the source was busy. */
  busy: number;
}

/** Simulates one rollout (event by event, one job per instance). */
export function simulateRollout(input: RolloutInput): Rollout {
  const { instances, jitterMs, fetchCpuS, syncMs, cores, random } = input;
  const serviceMs = (fetchCpuS * 1000) / cores;
  const clientMs = Math.max(0, syncMs - fetchCpuS * 1000);
  const arrivals = Array.from({ length: instances }, () => Math.floor(random() * jitterMs)).sort(
    (a, b) => a - b,
  );
  let free = 0;
  let lastServedMs = 0;
  let maxQueueMs = 0;
  const ends: number[] = [];
  for (const at of arrivals) {
    const start = Math.max(at, free);
    maxQueueMs = Math.max(maxQueueMs, start - at);
    free = start + serviceMs;
    const done = free + clientMs;
    ends.push(free);
    lastServedMs = Math.max(lastServedMs, done);
  }
  // In flight: arrived and not yet served by the source.
  let peakConcurrent = 0;
  let j = 0;
  for (let i = 0; i < arrivals.length; i++) {
    while (j < i && ends[j]! <= arrivals[i]!) j++;
    peakConcurrent = Math.max(peakConcurrent, i - j + 1);
  }
  const window = Math.max(free, jitterMs, 1);
  return { lastServedMs, maxQueueMs, peakConcurrent, busy: (instances * serviceMs) / window };
}
