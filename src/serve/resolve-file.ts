// Mapping a checked request path to a file on disk: joined under its root, symlinks resolved, and
// refused when the real path leaves the allowed roots or passes through a dot-named entry.
import { realpathSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** What a path under a served root turned out to be. */
export type Resolved =
  | { kind: 'file' | 'dir'; path: string; stat: Stats }
  | { kind: 'missing' }
  | { kind: 'refused'; path: string };

/** Resolves `segments` under `root`; only real paths inside one of `allowed` (and dot-free) pass. */
export async function resolveInside(
  root: string,
  segments: readonly string[],
  allowed: readonly string[],
): Promise<Resolved> {
  let real: string;
  try {
    real = await realpath(path.join(root, ...segments));
  } catch {
    return { kind: 'missing' };
  }
  if (!allowed.some((a) => isCleanlyInside(a, real))) return { kind: 'refused', path: real };
  let info: Stats;
  try {
    info = await stat(real);
  } catch {
    return { kind: 'missing' };
  }
  if (info.isFile()) return { kind: 'file', path: real, stat: info };
  if (info.isDirectory()) return { kind: 'dir', path: real, stat: info };
  return { kind: 'missing' }; // sockets, FIFOs, devices: never served
}

/** True when `real` is `root` or below it with no segment starting with "." in between. */
export function isCleanlyInside(root: string, real: string): boolean {
  if (real === root) return true;
  if (!real.startsWith(root) || real.charAt(root.length) !== path.sep) return false;
  return !real
    .slice(root.length + 1)
    .split(path.sep)
    .some((s) => s.charCodeAt(0) === 46);
}

/** The real path of a folder the agent was told to serve, or undefined when it is not there. */
export function realFolder(dir: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  try {
    return realpathSync.native(dir);
  } catch {
    return undefined;
  }
}
