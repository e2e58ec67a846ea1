// The data mount: inside the service checkout, <data.mount> is a symlink to <state>/data/current, so
// the service always sees the version being served. A placeholder folder there (empty, or holding
// only dot-named files such as a committed .gitignore or .gitkeep) is replaced; a folder holding
// anything else (a file not named with a dot, or a sub-folder) is refused: the data would hide it.
import { readdirSync, lstatSync, readlinkSync, type Dirent } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { swapSymlink } from './service-checkout.js';

/** Whether a folder entry is placeholder material: a dot-named file (not a folder). */
function isPlaceholder(entry: Dirent): boolean {
  return entry.name.startsWith('.') && !entry.isDirectory();
}

/** The link target for a mount at `mount` inside `checkout`, relative so the state root can move. */
export function mountTarget(checkout: string, mount: string, dataCurrent: string): string {
  const linkDir = path.dirname(path.join(checkout, mount));
  return path.relative(linkDir, dataCurrent);
}

/** Creates (or confirms) the data mount symlink in a checkout; returns its path. */
export async function createDataMount(
  checkout: string,
  mount: string,
  dataCurrent: string,
  logger?: Logger,
): Promise<string> {
  const link = path.join(checkout, mount);
  const target = mountTarget(checkout, mount, dataCurrent);
  let stat;
  try {
    stat = lstatSync(link);
  } catch {
    stat = undefined;
  }
  if (stat?.isSymbolicLink()) {
    if (readlinkSync(link) === target) return link;
  } else if (stat?.isDirectory()) {
    const entries = readdirSync(link, { withFileTypes: true });
    const real = entries
      .filter((e) => !isPlaceholder(e))
      .map((e) => e.name + (e.isDirectory() ? '/' : ''));
    if (real.length) {
      throw new GitstrapError(
        `the service repo has files at data.mount "${mount}" (${real.slice(0, 3).join(', ')}${real.length > 3 ? ', ...' : ''}); the data would hide them`,
        {
          hint: `set data.mount to a path the service repo does not use, or remove them from ${mount}/ in the service repo (a folder holding only dot-named files such as .gitignore or .gitkeep is replaced)`,
        },
      );
    }
    await rm(link, { recursive: true });
    if (entries.length) {
      logger?.log('info', 'data.mount_replaced', {
        mount,
        hidden: entries.map((e) => e.name),
      });
    }
  } else if (stat) {
    throw new GitstrapError(`the service repo has a file at data.mount "${mount}"`, {
      hint: `set data.mount to a path the service repo does not use, or remove that file from the service repo`,
    });
  }
  await mkdir(path.dirname(link), { recursive: true });
  await swapSymlink(link, target);
  return link;
}
