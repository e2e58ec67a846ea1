// The data mount: inside the service checkout, <data.mount> is a symlink to <state>/data/current, so
// the service always sees the version being served. An empty placeholder folder there is replaced;
// real files there are refused (they would be hidden).
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { GitstrapError } from '../lib/errors.js';
import { swapSymlink } from './service-checkout.js';

/** Files a placeholder folder may hold and still count as empty. */
const PLACEHOLDER_FILES = new Set(['.gitkeep', '.keep', '.gitignore']);

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
    const entries = readdirSync(link);
    const real = entries.filter((e) => !PLACEHOLDER_FILES.has(e));
    if (real.length) {
      throw new GitstrapError(
        `the service repo has files at data.mount "${mount}" (${real.slice(0, 3).join(', ')}${real.length > 3 ? ', ...' : ''}); the data would hide them`,
        {
          hint: `set data.mount to a path the service repo does not use, or remove ${mount}/ from the service repo (an empty folder or one with only .gitkeep is fine)`,
        },
      );
    }
    await rm(link, { recursive: true });
  } else if (stat) {
    throw new GitstrapError(`the service repo has a file at data.mount "${mount}"`, {
      hint: `set data.mount to a path the service repo does not use, or remove that file from the service repo`,
    });
  }
  await mkdir(path.dirname(link), { recursive: true });
  await swapSymlink(link, target);
  return link;
}
