// A failed sync phase: which phase, what happened, how to fix it. The engine turns it into a result.
import { redactSecrets } from '../../src/lib/redact.js';

/** The phases of a sync, as results and logs name them. */
export type SyncPhase =
  | 'lock'
  | 'fetch'
  | 'verify'
  | 'submodules'
  | 'lfs'
  | 'checkout'
  | 'transform'
  | 'check'
  | 'publish'
  | 'rollback';

/** An expected failure of one sync phase; the message is written for the operator. */
export class SyncFailure extends Error {
  readonly phase: SyncPhase;
  readonly hint: string | undefined;

  constructor(phase: SyncPhase, message: string, hint?: string) {
    super(message);
    this.name = 'SyncFailure';
    this.phase = phase;
    this.hint = hint;
  }
}

/** Removes every credential from a message (src/lib/redact.ts), so none reaches a log. */
export function redactCredentials(text: string): string {
  return redactSecrets(text);
}

/** The last `count` non-empty lines of a command's output, for error messages. */
export function lastLines(text: string, count = 5): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0)
    .slice(-count);
}
