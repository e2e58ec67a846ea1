// Resolving a relative path under a root without leaving it, through ".." or a symlink: the one rule
// for the files the agent serves (src/serve) and the paths a recipe's data checks and transforms
// name (data-sync).
import { lstat, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';

/** What a path under a root turned out to be. */
export type Resolved =
  /** It exists; `path` is its real path (symlinks resolved), inside an allowed root. */
  | { kind: 'file' | 'dir'; path: string; stat: Stats }
  /**
   * It does not exist (or is a socket, FIFO or device), and nothing on its way leads outside:
   * `path` is where it would be (root joined with the path, not resolved).
   */
  | { kind: 'missing'; path: string }
  /** It leads outside (`path`: where it led), through a dot-named entry, or cannot be checked. */
  | { kind: 'refused'; path: string };

export interface ResolveOptions {
  /** Refuse a real path that passes an entry named ".*" below its allowed root (default: true). */
  dotFree?: boolean;
  /**
   * The path may be written to (default: false, for reading only): a missing one passes only when
   * its deepest existing part lies inside and no dangling symlink is on its way; an error other
   * than "not there" (a NUL, a loop) is refused. For reading, a missing path is simply missing.
   */
  forWriting?: boolean;
}

/** True when `target` is `root` or below it; with `dotFree`, through no entry whose name starts with ".". */
export function isInside(root: string, target: string, dotFree = false): boolean {
  if (target === root) return true;
  if (!target.startsWith(root) || target.charAt(root.length) !== path.sep) return false;
  if (!dotFree) return true;
  return !target
    .slice(root.length + 1)
    .split(path.sep)
    .some((s) => s.charCodeAt(0) === 46);
}

/**
 * Resolves `segments` under `root`. It passes only when the joined path stays under `root` (no ".."
 * out, no absolute segment) and its real path lies inside one of `allowed` (real paths; default:
 * the real path of `root`), dot-free unless `dotFree` is false. See `forWriting` for a missing path.
 */
export async function resolveInside(
  root: string,
  segments: readonly string[],
  allowed?: readonly string[],
  options: ResolveOptions = {},
): Promise<Resolved> {
  const dotFree = options.dotFree ?? true;
  const full = path.resolve(root, ...segments);
  if (!isInside(path.resolve(root), full)) return { kind: 'refused', path: full };
  let roots = allowed;
  if (roots === undefined) {
    try {
      roots = [await realpath(root)];
    } catch {
      return { kind: 'refused', path: full };
    }
  }
  const passes = (real: string): boolean => roots.some((a) => isInside(a, real, dotFree));
  let real: string;
  try {
    real = await realpath(full);
  } catch (error) {
    if (options.forWriting !== true) return { kind: 'missing', path: full };
    return (await missingIsInside(root, full, error, passes))
      ? { kind: 'missing', path: full }
      : { kind: 'refused', path: full };
  }
  if (!passes(real)) return { kind: 'refused', path: real };
  let info: Stats;
  try {
    info = await stat(real);
  } catch {
    return { kind: 'missing', path: full };
  }
  if (info.isFile()) return { kind: 'file', path: real, stat: info };
  if (info.isDirectory()) return { kind: 'dir', path: real, stat: info };
  return { kind: 'missing', path: full }; // sockets, FIFOs, devices: never served
}

/** For a `full` path realpath could not resolve: whether its deepest existing part passes. */
async function missingIsInside(
  root: string,
  full: string,
  error: unknown,
  passes: (real: string) => boolean,
): Promise<boolean> {
  const top = path.resolve(root);
  for (let probe = full; ;) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return false;
    if (await isLink(probe)) return false; // a dangling symlink: writing would follow it
    if (probe === top || !isInside(top, probe)) return false;
    probe = path.dirname(probe);
    try {
      return passes(await realpath(probe));
    } catch (next) {
      error = next;
    }
  }
}

async function isLink(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isSymbolicLink();
  } catch {
    return false;
  }
}
