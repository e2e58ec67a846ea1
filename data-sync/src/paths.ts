// Resolving recipe paths inside a version folder without escaping it (through ".." or a symlink).
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';

function isInside(root: string, target: string): boolean {
  return target === root || target.startsWith(root + path.sep);
}

/** The absolute path of `rel` inside `root`; undefined if it (or a symlink on its way) leads outside. */
export function resolveInside(root: string, rel: string): string | undefined {
  const full = path.resolve(root, rel);
  if (!isInside(root, full)) return undefined;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return undefined;
  }
  // The deepest part of the path that exists must resolve (symlinks followed) inside the root.
  for (let probe = full; ; probe = path.dirname(probe)) {
    try {
      return isInside(realRoot, realpathSync(probe)) ? full : undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
      if (existsAsLink(probe)) return undefined; // a dangling symlink: writing would follow it
      if (probe === root || !isInside(root, probe)) return undefined;
    }
  }
}

function existsAsLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
