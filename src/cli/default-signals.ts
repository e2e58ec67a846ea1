// Synchronous work that Ctrl-C and SIGTERM must be able to end. A JS signal listener runs only when
// the event loop is free, so while a listener is installed a signal waits for synchronous work (a
// recipe being read and validated) to finish. Without listeners, the signal ends the process at once.

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Runs `work` with the default action of SIGINT and SIGTERM (end the process), then restores the listeners. */
export function withDefaultSignals<T>(work: () => T): T {
  const saved = SIGNALS.map((signal) => {
    const listeners = process.listeners(signal);
    process.removeAllListeners(signal);
    return { signal, listeners };
  });
  try {
    return work();
  } finally {
    for (const { signal, listeners } of saved) {
      for (const listener of listeners) process.on(signal, listener);
    }
  }
}
