// A coalescing trigger: however many times it is pulled, at most one run is going and one more is
// waiting. A burst of webhook deliveries becomes one sync (plus one, if the burst outlasts it).

export interface CoalescingTrigger {
  /** Asks for a run; resolves when a run that started after this call has finished. */
  trigger(): Promise<void>;
  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void>;
  /** How many runs have started. */
  runs(): number;
}

/** Wraps `run` so that overlapping requests coalesce. Errors go to `onError`, never to the caller. */
export function createCoalescingTrigger(
  run: () => Promise<unknown>,
  onError: (error: unknown) => void = () => undefined,
): CoalescingTrigger {
  let running: Promise<void> | undefined;
  let pending: Promise<void> | undefined;
  let started = 0;
  const start = (): Promise<void> => {
    started += 1;
    const current: Promise<void> = Promise.resolve()
      .then(run)
      .then(
        () => undefined,
        (error: unknown) => onError(error),
      )
      .finally(() => {
        if (running === current) running = undefined;
      });
    running = current;
    return current;
  };
  return {
    trigger() {
      if (!running) return start();
      if (!pending) {
        const waitFor = running;
        pending = waitFor.then(() => {
          pending = undefined;
          return start();
        });
      }
      return pending;
    },
    async idle() {
      for (let i = 0; i < 1000 && (running || pending); i++) await (pending ?? running);
    },
    runs: () => started,
  };
}
