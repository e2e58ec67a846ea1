// Git LFS for a data version (data.lfs). Before the checkout: the pointers of the version's tree
// (git lfs ls-files), split by the sparse paths, and their sizes charged to data.limits before a
// byte is downloaded. The checkout itself fetches the objects: git runs the cache's LFS filter on
// the files it writes, so only files inside the sparse paths, and only those that changed, are
// downloaded (git-lfs asks the batch API). After it, every LFS file must hold its object's bytes:
// a version with a pointer in place of content is never published.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { redactCredentials, SyncFailure } from './failure.js';
import type { Git } from './git.js';
import type { DataLayout } from './layout.js';
import type { ExtractBudget } from './limits.js';
import {
  lfsObjectPath,
  parseLfsFiles,
  planLfs,
  routesThroughLfs,
  type LfsPlan,
} from './lfs-plan.js';

const INSTALL_HINT =
  'install git-lfs (Debian/Ubuntu: apt-get install git-lfs; first boot installs it when the recipe sets data.lfs or service.lfs)';

/** Fails with what to install when git-lfs is missing. */
export async function assertLfsInstalled(git: Git): Promise<void> {
  const result = await git.run(['lfs', 'version']);
  if (result.code !== 0) {
    throw new SyncFailure('lfs', 'data.lfs is set, but git-lfs is not installed', INSTALL_HINT);
  }
}

/** The pointers of `treeish` and what the version needs of them. */
export async function planVersionLfs(
  git: Git,
  treeish: string,
  sparse: readonly string[] | undefined,
): Promise<LfsPlan> {
  const out = await git.ok('lfs', ['lfs', 'ls-files', '--json', treeish], {
    hint: INSTALL_HINT,
  });
  return planLfs(parseLfsFiles(out), sparse);
}

/** Charges the version's LFS files to its budget (data.limits); fails before any download. */
export function chargeLfs(plan: LfsPlan, budget: ExtractBudget): void {
  budget.lfsBytes = plan.bytes;
  budget.lfsFiles = plan.inside.length;
  budget.bytes += plan.bytes;
  budget.members += plan.inside.length;
  const { limits } = budget;
  if (budget.bytes > limits.maxBytes || budget.members > limits.maxFiles) {
    const over =
      budget.bytes > limits.maxBytes
        ? `${plan.bytes} bytes, more than data.limits.max_bytes (${limits.maxBytesText})`
        : `more files than data.limits.max_files (${limits.maxFiles})`;
    throw new SyncFailure(
      'lfs',
      `the Git LFS files of this version (${plan.inside.length} files) take ${over}; nothing was downloaded`,
      'raise data.limits, or narrow data.sparse to the paths the service needs',
    );
  }
}

/** The objects of the plan that are in the cache's LFS store now. */
export function cachedObjects(layout: DataLayout, plan: LfsPlan): Set<string> {
  return new Set(
    plan.inside.filter((p) => existsSync(lfsObjectPath(layout.repo, p.oid))).map((p) => p.oid),
  );
}

/**
 * Turns a failed checkout into an error naming the LFS objects that could not be fetched (those
 * still missing from the cache), with git-lfs's reason; other failures are returned as they are.
 */
export function explainCheckoutFailure(
  layout: DataLayout,
  plan: LfsPlan,
  error: unknown,
  endpoint: string,
): unknown {
  if (!(error instanceof SyncFailure)) return error;
  const missing = plan.inside.filter((p) => !existsSync(lfsObjectPath(layout.repo, p.oid)));
  if (missing.length === 0 || !/smudge|lfs/i.test(error.message)) return error;
  const named = missing
    .slice(0, 3)
    .map((p) => `${p.path} (oid sha256:${p.oid.slice(0, 12)}, ${p.size} bytes)`)
    .join(', ');
  const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
  return new SyncFailure(
    'lfs',
    `cannot fetch the Git LFS objects of ${named}${more} from ${redactCredentials(endpoint)}; not publishing a version with pointer files in their place (${error.message})`,
    'push the LFS objects (git lfs push --all origin), check that the LFS server answers for data.repo, and the credentials (data.auth)',
  );
}

/**
 * Checks that every LFS file of the version holds its object: a regular file of the object's size
 * (a pointer is a short text). Fails naming the first file that does not.
 */
export function assertLfsContent(root: string, plan: LfsPlan): void {
  for (const p of plan.inside) {
    let stat;
    try {
      stat = lstatSync(path.join(root, p.path));
    } catch {
      throw new SyncFailure('lfs', `Git LFS file ${p.path} is missing from the new version`);
    }
    if (!stat.isFile() || stat.size !== p.size) {
      throw new SyncFailure(
        'lfs',
        `Git LFS file ${p.path} holds ${stat.isFile() ? `${stat.size} bytes` : 'no file'} instead of its object (oid sha256:${p.oid.slice(0, 12)}, ${p.size} bytes); not publishing a pointer in place of content`,
        "the data repo's .gitattributes must route the file through LFS (filter=lfs), as git lfs track writes it",
      );
    }
  }
}

/** Fails when a version made without data.lfs has a .gitattributes that routes files through LFS. */
export function assertNoLfsWithoutOptIn(root: string): void {
  let text: string;
  try {
    text = readFileSync(path.join(root, '.gitattributes'), 'utf8');
  } catch {
    return;
  }
  if (routesThroughLfs(text)) {
    throw new SyncFailure(
      'lfs',
      'the data repo keeps files in Git LFS (its .gitattributes says filter=lfs), but data.lfs is not set: the version would hold pointer files instead of content',
      'set data.lfs: true in the recipe (first boot then installs git-lfs)',
    );
  }
}

/** Keeps only `keep` objects in the cache's LFS store (the served version's): the rest are in versions. */
export function pruneLfsStore(layout: DataLayout, keep: ReadonlySet<string>): number {
  const store = path.join(layout.repo, 'lfs', 'objects');
  let removed = 0;
  for (const a of safeList(store)) {
    for (const b of safeList(path.join(store, a))) {
      for (const oid of safeList(path.join(store, a, b))) {
        if (keep.has(oid)) continue;
        rmSync(path.join(store, a, b, oid), { force: true });
        removed++;
      }
    }
  }
  rmSync(path.join(layout.repo, 'lfs', 'tmp'), { recursive: true, force: true });
  return removed;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
