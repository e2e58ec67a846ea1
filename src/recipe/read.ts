// Reading a recipe file, never more than the size limit allows: a larger file is refused from its
// size alone, and a FIFO or /dev/stdin is read only up to one byte past the limit.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GitstrapError } from '../lib/errors.js';
import { describeOversize, MAX_RECIPE_BYTES, OVERSIZE_HINT } from './limits.js';

/** The text of a recipe file; throws GitstrapError when it cannot be read or is too big. */
export function readRecipeText(file: string, displayName = file): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw cannotRead(displayName, error);
  }
  try {
    const size = fstatSync(fd).isFile() ? fstatSync(fd).size : 0;
    const tooBig = describeOversize(size, `recipe ${displayName}`);
    if (tooBig) throw new GitstrapError(tooBig, { hint: OVERSIZE_HINT });
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, MAX_RECIPE_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > MAX_RECIPE_BYTES) {
        throw new GitstrapError(describeOversize(total, `recipe ${displayName}`)!, {
          hint: OVERSIZE_HINT,
        });
      }
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (error instanceof GitstrapError) throw error;
    throw cannotRead(displayName, error);
  } finally {
    closeSync(fd);
  }
}

function cannotRead(displayName: string, error: unknown): GitstrapError {
  return new GitstrapError(
    `cannot read recipe ${displayName}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
  );
}
