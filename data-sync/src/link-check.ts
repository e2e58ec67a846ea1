// Symlinks in a version must resolve inside it. A link is resolved the way the kernel would, one
// component at a time, but inside the version folder as if it were "/": a ".." above the version or
// an absolute target is an escape, even when a chain of links that each look harmless leads there
// (d/e/a -> ../.. and d/e/b -> a/../..), and even when the target does not exist (yet). A detour out
// of the version and back in is an escape too: the version folder is renamed when it is published.
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { SyncFailure } from './failure.js';

/** The kernel's limit on symlinks followed in one path resolution. */
const MAX_HOPS = 40;

/**
 * Why following `rel` (a path inside `root`, symlinks followed, its last component too) leaves
 * `root`; undefined when it stays inside.
 */
export async function whyLinkEscapes(root: string, rel: string): Promise<string | undefined> {
  let pending = rel.split('/');
  const resolved: string[] = [];
  let hops = 0;
  // Past a missing component the rest is resolved by name: nothing there can be a link.
  let missing = false;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return 'leads above the version folder';
      resolved.pop();
      continue;
    }
    resolved.push(part);
    if (missing) continue;
    const at = resolved.join('/');
    let isLink: boolean;
    try {
      isLink = (await lstat(path.join(root, at))).isSymbolicLink();
    } catch {
      missing = true;
      continue;
    }
    if (!isLink) continue;
    hops += 1;
    if (hops > MAX_HOPS) return `has more than ${MAX_HOPS} levels of symlinks`;
    const target = await readlink(path.join(root, at));
    if (target.startsWith('/')) {
      return at === rel
        ? 'has an absolute target'
        : `goes through ${JSON.stringify(at)} -> ${JSON.stringify(target)}, an absolute target`;
    }
    resolved.pop();
    pending = [...target.split('/'), ...pending];
  }
  return undefined;
}

/** What in a version breaks the rule: a symlink leading out, or a special file. */
export type VersionEntryProblem =
  { kind: 'link'; path: string; target: string; why: string } | { kind: 'special'; path: string };

/**
 * The first symlink in `root` (walked without following links) that leads outside it, or special
 * file (fifo, socket, device) in it; undefined when there is none.
 */
export async function findEscapingEntry(root: string): Promise<VersionEntryProblem | undefined> {
  const folders = [''];
  while (folders.length > 0) {
    const rel = folders.pop()!;
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const entry of entries) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) folders.push(child);
      else if (entry.isSymbolicLink()) {
        const why = await whyLinkEscapes(root, child);
        if (why !== undefined) {
          const target = await readlink(path.join(root, child));
          return { kind: 'link', path: child, target, why };
        }
      } else if (!entry.isFile()) return { kind: 'special', path: child };
    }
  }
  return undefined;
}

/** Throws a SyncFailure (phase "check") when the version in `root` has an entry that breaks the rule. */
export async function assertVersionContained(root: string): Promise<void> {
  const problem = await findEscapingEntry(root);
  if (!problem) return;
  if (problem.kind === 'special') {
    throw new SyncFailure(
      'check',
      `the new version has ${JSON.stringify(problem.path)}, which is not a file, folder or symlink (a fifo, socket or device)`,
      'a version holds files, folders and symlinks only: remove it in the transform that makes it',
    );
  }
  throw new SyncFailure(
    'check',
    `the new version has a symlink that leads outside it: ${JSON.stringify(problem.path)} -> ${JSON.stringify(problem.target)} (it ${problem.why})`,
    'symlinks in a version must have relative targets that stay inside it, also through other links: fix or remove it in the data repo, or in the transform that makes it',
  );
}
