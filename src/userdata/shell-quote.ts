// Quoting for POSIX shells: every value a template puts into a shell script goes through this.
import { GitstrapError } from '../lib/errors.js';

/** The value as one single-quoted shell word: 'it'\''s' for it's. Refuses NUL, which no shell can carry. */
export function quoteShell(value: string | number): string {
  const text = String(value);
  if (text.includes('\u0000')) {
    throw new GitstrapError('a value for a shell script contains a NUL character', {
      hint: 'remove the NUL character from the recipe value',
    });
  }
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
