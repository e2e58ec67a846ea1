// Cloning the service repo: resolve service.ref to a commit, check it out into service/<commit>
// (built in a temporary folder, then renamed: a checkout that exists is complete), and point
// service/current at it by renaming a new symlink over the old one.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { suggest } from '../lib/suggest.js';
import { createGit, gitFailureReason, isUnreachable } from './git-client.js';
import type { Layout } from './layout.js';
import type { SubmoduleSelection } from '../../data-sync/src/submodule-plan.js';
import {
  checkoutSubmodules,
  pullLfs,
  readSubmoduleRecord,
  writeSubmoduleRecord,
  type ServiceSubmodule,
} from './service-submodules.js';

/** What to check out and how to reach it. */
export interface ServiceCheckoutOptions {
  repo: string;
  ref: string;
  layout: Layout;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  gitEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** service.submodules and service.submodule_urls: which submodules to place, from where. */
  submodules?: SubmoduleSelection;
  submoduleUrls?: readonly string[];
  /** service.lfs: download the Git LFS files of the commit. */
  lfs?: boolean;
}

/** A checked-out service commit. */
export interface ServiceCheckout {
  commit: string;
  dir: string;
  /** Whether this run cloned it (false: an earlier run's checkout was reused). */
  cloned: boolean;
  /** The submodules placed in it (service.submodules), when there are any. */
  submodules?: ServiceSubmodule[];
}

const SHA = /^[0-9a-f]{40}$/;

/** Whether a ref pins a commit (a full SHA). */
export function isCommitSha(ref: string): boolean {
  return SHA.test(ref);
}

/** The refs `git ls-remote` is asked for when resolving a branch or tag name. */
export function refPatterns(ref: string): string[] {
  return [`refs/heads/${ref}`, `refs/tags/${ref}`, `refs/tags/${ref}^{}`];
}

/** Picks the commit a name resolves to from ls-remote output: a branch, else a (peeled) tag. */
export function pickRef(
  lsRemote: string,
  ref: string,
): { commit: string; fullRef: string } | undefined {
  const entries = new Map<string, string>();
  for (const line of lsRemote.split('\n')) {
    const [sha, name] = line.trim().split(/\s+/);
    if (sha && name) entries.set(name, sha);
  }
  const branch = entries.get(`refs/heads/${ref}`);
  if (branch) return { commit: branch, fullRef: `refs/heads/${ref}` };
  const peeled = entries.get(`refs/tags/${ref}^{}`);
  const tag = entries.get(`refs/tags/${ref}`);
  if (peeled ?? tag) return { commit: (peeled ?? tag)!, fullRef: `refs/tags/${ref}` };
  return undefined;
}

function unreachable(what: string, repo: string, reason: string): GitstrapError {
  return new GitstrapError(`cannot reach the ${what} repo ${repo}: ${reason}`, {
    hint: `check ${what}.repo and ${what}.auth in the recipe, and that this machine can reach it (git ls-remote ${repo})`,
    exitCode: ExitCode.failed,
  });
}

/** Resolves a branch or tag to its commit with `git ls-remote`; a SHA resolves to itself. */
export async function resolveRef(
  options: Omit<ServiceCheckoutOptions, 'layout' | 'logger'> & { what?: string },
): Promise<{ commit: string; fullRef: string }> {
  const what = options.what ?? 'service';
  if (isCommitSha(options.ref)) return { commit: options.ref, fullRef: options.ref };
  const git = createGit({ baseDir: '/', ...pick(options) });
  let out: string;
  try {
    out = await git.raw(['ls-remote', options.repo, ...refPatterns(options.ref)]);
  } catch (error) {
    throw unreachable(what, options.repo, gitFailureReason(error));
  }
  const found = pickRef(out, options.ref);
  if (found) return found;
  let names: string[] = [];
  try {
    const all = await git.raw(['ls-remote', '--heads', '--tags', options.repo]);
    names = all
      .split('\n')
      .map((l) => l.split(/\s+/)[1] ?? '')
      .filter((n) => n && !n.endsWith('^{}'))
      .map((n) => n.replace(/^refs\/(heads|tags)\//, ''));
  } catch {
    // the first call worked; leave the list empty
  }
  const close = suggest(options.ref, names);
  throw new GitstrapError(
    `${what}.ref "${options.ref}" is not a branch or tag of ${options.repo}`,
    {
      hint: close
        ? `did you mean "${close}"? (set ${what}.ref, or --set ${what}.ref=${close})`
        : names.length
          ? `it has: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}`
          : `set ${what}.ref to a branch, a tag or a full commit SHA`,
      exitCode: ExitCode.input,
    },
  );
}

function pick(o: { env?: NodeJS.ProcessEnv; gitEnv?: NodeJS.ProcessEnv; signal?: AbortSignal }) {
  return {
    ...(o.env ? { env: o.env } : {}),
    ...(o.gitEnv ? { gitEnv: o.gitEnv } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
}

/** Fetches one commit (depth 1) into a new folder and checks it out; returns the commit. */
async function fetchInto(
  dir: string,
  options: ServiceCheckoutOptions,
  fetchRef: string,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const git = createGit({ baseDir: dir, ...pick(options) });
  await git.raw(['init', '-q']);
  await git.raw(['remote', 'add', 'origin', options.repo]);
  try {
    await git.raw(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', fetchRef]);
  } catch (error) {
    const reason = gitFailureReason(error);
    if (!isCommitSha(fetchRef) || isUnreachable(reason))
      throw unreachable('service', options.repo, reason);
    // Some servers refuse a fetch by SHA: fetch the branches and tags, then look for the commit.
    try {
      await git.raw([
        'fetch',
        '-q',
        'origin',
        '+refs/heads/*:refs/remotes/origin/*',
        '+refs/tags/*:refs/tags/*',
      ]);
    } catch (error2) {
      throw unreachable('service', options.repo, gitFailureReason(error2));
    }
    try {
      await git.raw(['cat-file', '-e', `${fetchRef}^{commit}`]);
    } catch {
      throw new GitstrapError(`service.ref ${fetchRef} is not a commit of ${options.repo}`, {
        hint: 'a pinned SHA must be a commit reachable from a branch or tag of the repo',
      });
    }
    await git.raw(['checkout', '-q', '--detach', fetchRef]);
    return (await git.raw(['rev-parse', 'HEAD'])).trim();
  }
  await git.raw(['checkout', '-q', '--detach', 'FETCH_HEAD']);
  return (await git.raw(['rev-parse', 'HEAD'])).trim();
}

/** Points `link` at `target` atomically: a new symlink renamed over the old one. */
export async function swapSymlink(link: string, target: string): Promise<void> {
  try {
    if ((await readlink(link)) === target) return;
  } catch {
    // no link yet
  }
  const temp = `${link}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await symlink(target, temp);
  try {
    await rename(temp, link);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Checks out service.ref into service/<commit> (reusing a complete earlier checkout) and points service/current at it. */
export async function checkoutService(options: ServiceCheckoutOptions): Promise<ServiceCheckout> {
  const { layout, logger } = options;
  await mkdir(layout.serviceDir, { recursive: true });
  // Left by an agent that was killed mid-clone (we hold the lock: nobody else is cloning).
  const names = await readdir(layout.serviceDir);
  for (const name of names) {
    if (name.startsWith('.incoming-') || name.startsWith('current.tmp-')) {
      await rm(path.join(layout.serviceDir, name), { recursive: true, force: true });
    }
  }
  const temp = path.join(
    layout.serviceDir,
    `.incoming-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  let commit: string;
  let cloned = false;
  try {
    if (!names.some(isCommitSha) && !isCommitSha(options.ref)) {
      // First clone (first boot): no checkout to reuse, so no need to ask for the commit first.
      logger.log('info', 'service.clone', { repo: options.repo, ref: options.ref });
      commit = await cloneInto(temp, options);
    } else {
      const resolved = await resolveRef(options);
      commit = resolved.commit;
      if (!existsSync(layout.checkout(commit))) {
        logger.log('info', 'service.clone', { repo: options.repo, ref: options.ref, commit });
        commit = await fetchInto(temp, options, resolved.fullRef);
      }
    }
    if (existsSync(temp)) {
      if (existsSync(layout.checkout(commit))) await rm(temp, { recursive: true, force: true });
      else {
        await completeCheckout(temp, options);
        await rename(temp, layout.checkout(commit));
        cloned = true;
      }
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  await swapSymlink(layout.serviceCurrent, commit);
  const submodules = readSubmoduleRecord(layout.checkout(commit));
  logger.log('info', 'service.checkout', {
    commit,
    cloned,
    dir: layout.checkout(commit),
    ...(submodules.length
      ? { submodules: submodules.map((m) => `${m.path}@${m.commit.slice(0, 12)}`) }
      : {}),
  });
  return {
    commit,
    dir: layout.checkout(commit),
    cloned,
    ...(submodules.length ? { submodules } : {}),
  };
}

/** Places the submodules and LFS files a recipe asks for in a fresh checkout (before it is renamed into place). */
async function completeCheckout(dir: string, options: ServiceCheckoutOptions): Promise<void> {
  const common = {
    repo: options.repo,
    ...(options.env ? { env: options.env } : {}),
    ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (options.submodules) {
    const placed = await checkoutSubmodules(dir, {
      ...common,
      selection: options.submodules,
      allowed: options.submoduleUrls ?? [],
    });
    writeSubmoduleRecord(dir, placed);
  }
  if (options.lfs) await pullLfs(dir, common);
}

/**
 * Clones the tip of a branch or tag (depth 1, no tags) into `dir`: two git runs where a fetch into
 * a new repo takes six. When the clone fails, asking for the ref tells why (no such branch or tag,
 * with the names it has; or the repo is unreachable).
 */
async function cloneInto(dir: string, options: ServiceCheckoutOptions): Promise<string> {
  const git = createGit({ baseDir: options.layout.serviceDir, ...pick(options) });
  try {
    await git.raw([
      'clone',
      '-q',
      '--depth',
      '1',
      '--no-tags',
      '--single-branch',
      '--branch',
      options.ref,
      '--',
      options.repo,
      dir,
    ]);
  } catch (error) {
    await resolveRef(options); // throws when the ref is missing or the repo unreachable
    throw new GitstrapError(
      `cannot clone the service repo ${options.repo} at ${options.ref}: ${gitFailureReason(error)}`,
      {
        hint: `check that the disk has room and that git clone ${options.repo} works on this machine`,
        exitCode: ExitCode.failed,
      },
    );
  }
  return (await createGit({ baseDir: dir, ...pick(options) }).raw(['rev-parse', 'HEAD'])).trim();
}

/** Removes old checkouts (other refs' trees), keeping the current one and the `keep` newest others. */
export async function pruneCheckouts(layout: Layout, current: string, keep = 1): Promise<string[]> {
  const others: Array<{ commit: string; mtimeMs: number }> = [];
  for (const name of await readdir(layout.serviceDir)) {
    if (!SHA.test(name) || name === current) continue;
    others.push({ commit: name, mtimeMs: (await lstat(layout.checkout(name))).mtimeMs });
  }
  others.sort((a, b) => b.mtimeMs - a.mtimeMs);
  const removed = others.slice(keep).map((o) => o.commit);
  for (const commit of removed) await rm(layout.checkout(commit), { recursive: true, force: true });
  return removed;
}
