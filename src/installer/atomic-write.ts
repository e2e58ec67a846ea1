// Writing a file whole or not at all: a temp file beside it, fsynced, renamed over it (or, for a
// file that must not exist yet, hard-linked to its name, which fails when the name is taken).
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';

/**
 * Writes a file by temp file + fsync + rename, so a reader sees the old or the new, never half.
 * With `create`, the file must not exist: it is never replaced (EEXIST otherwise).
 */
export function writeAtomic(
  file: string,
  data: Buffer,
  mode = 0o644,
  { create = false }: { create?: boolean } = {},
): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode & 0o777);
    writeSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (create) {
      linkSync(tmp, file);
      unlinkSync(tmp);
    } else {
      renameSync(tmp, file);
    }
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new GitstrapError(
      `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
