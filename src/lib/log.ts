// Structured JSON-lines logging for the agent (journald keeps stdout), and a tiny interface so code
// can log without knowing where it goes; tests pass a collecting logger. Every string logged has its
// credentials redacted (src/lib/redact.ts).
import { redactDeep, redactSecrets } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing one JSON object per line: {"time","level","event",...fields}. */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
  options: { level?: LogLevel; base?: LogFields; now?: () => Date } = {},
): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const base = options.base ?? {};
  const now = options.now ?? (() => new Date());
  return {
    log(level, event, fields = {}) {
      if (LEVELS[level] < min) return;
      write(
        `${JSON.stringify({ time: now().toISOString(), level, event, ...base, ...fields }, replaceErrors)}\n`,
      );
    },
    child(fields) {
      return jsonLogger(write, { ...options, base: { ...base, ...fields } });
    },
  };
}

/** A logger that keeps entries in memory (for tests and for the status page's recent events). */
export function memoryLogger(): Logger & {
  entries: Array<{ level: LogLevel; event: string } & LogFields>;
} {
  const entries: Array<{ level: LogLevel; event: string } & LogFields> = [];
  const make = (base: LogFields): Logger => ({
    log(level, event, fields = {}) {
      entries.push(redactDeep({ level, event: redactSecrets(event), ...base, ...fields }));
    },
    child(fields) {
      return make({ ...base, ...fields });
    },
  });
  return Object.assign(make({}), { entries });
}

/** A logger that drops everything. */
export const silentLogger: Logger = { log() {}, child: () => silentLogger };

/** JSON.stringify's replacer for log lines: errors as name and message; credentials redacted. */
function replaceErrors(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: redactSecrets(value.message) };
  if (typeof value === 'string') return redactSecrets(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.some((k) => redactSecrets(k) !== k)) {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [redactSecrets(k), v as unknown]),
      );
    }
  }
  return value;
}
