// Phase "stage": what the build of a commit needs besides the commit (its submodules, its Git LFS
// plan, the extraction budget), then its checkout into staging/next, reusing the folder there so
// git writes only the files that differ.
import { existsSync, mkdirSync } from 'node:fs';
import type { VersionLfs, VersionSubmodule } from '../api.js';
import { redactCredentials, SyncFailure } from '../failure.js';
import {
  assertLfsContent,
  assertLfsInstalled,
  assertNoLfsWithoutOptIn,
  cachedObjects,
  chargeLfs,
  explainCheckoutFailure,
  planVersionLfs,
} from '../lfs.js';
import { lfsEndpoint, type LfsPlan } from '../lfs-plan.js';
import { createBudget, resolveLimits, type ExtractBudget } from '../limits.js';
import { composeVersion } from '../submodules.js';
import type { Attempt, EngineContext } from './attempt.js';

/** What a build checks out and records besides the commit: submodules and LFS (data.lfs). */
export interface StageInput {
  commit: string;
  /** The commit, or the tree composed with its submodules. */
  treeish: string;
  submodules?: VersionSubmodule[];
  lfs?: { plan: LfsPlan; cached: Set<string>; endpoint: string };
  budget: ExtractBudget;
}

/** What the checkout left in staging/next. */
export interface Staged {
  /** Whether an earlier version's folder was reused. */
  reused: boolean;
  /** The version's LFS figures (data.lfs). */
  lfs?: VersionLfs;
}

/** Fetches the submodules, plans LFS and charges its bytes: what the build of `commit` needs. */
export async function prepareStage(
  ctx: EngineContext,
  attempt: Attempt,
  commit: string,
): Promise<StageInput> {
  const { data, layout } = ctx;
  const { git } = attempt;
  const budget = createBudget(resolveLimits(data.limits));
  let input: StageInput = { commit, treeish: commit, budget };
  if (data.submodules) {
    attempt.phase = 'submodules';
    const composed = await composeVersion(git, layout, data, commit);
    input = { ...input, treeish: composed.treeish, submodules: composed.submodules };
  }
  if (data.lfs) {
    attempt.phase = 'lfs';
    const endpoint = lfsEndpoint(data.repo);
    if (!endpoint) {
      throw new SyncFailure(
        'lfs',
        `data.lfs needs an LFS server, but data.repo ${redactCredentials(data.repo)} is a local path`,
        'serve the data repo over https:// (or ssh://) from a host that has Git LFS',
      );
    }
    await assertLfsInstalled(git);
    const plan = await planVersionLfs(git, input.treeish, data.sparse);
    chargeLfs(plan, budget);
    input.lfs = { plan, cached: cachedObjects(layout, plan), endpoint };
  }
  return input;
}

/** Checks out `input.treeish` into staging/next (with data.lfs, its LFS files too). */
export async function stageVersion(
  ctx: EngineContext,
  attempt: Attempt,
  input: StageInput,
): Promise<Staged> {
  const { layout } = ctx;
  const { lfs } = input;
  attempt.phase = 'checkout';
  mkdirSync(layout.staging, { recursive: true });
  const reused = existsSync(layout.next);
  if (!reused) mkdirSync(layout.next);
  const tree = { workTree: layout.next, index: layout.nextIndex };
  const hint = 'is the disk full? see the message above';
  // Leftovers of the transforms the folder went through before (untracked files) go first; then
  // the index (which knows what the folder holds) is moved to the new commit, touching changed files only.
  // With data.lfs, git runs the LFS filter on the files it writes: their objects are downloaded.
  if (reused) await attempt.git.ok('checkout', ['clean', '-ffdxq'], { ...tree, hint });
  try {
    await attempt.git.ok('checkout', ['read-tree', '--reset', '-u', input.treeish], {
      ...tree,
      hint,
    });
  } catch (error) {
    throw lfs ? explainCheckoutFailure(layout, lfs.plan, error, lfs.endpoint) : error;
  }
  if (!lfs) {
    assertNoLfsWithoutOptIn(layout.next);
    return { reused };
  }
  attempt.phase = 'lfs';
  assertLfsContent(layout.next, lfs.plan);
  const now = cachedObjects(layout, lfs.plan);
  return {
    reused,
    lfs: {
      files: lfs.plan.inside.length,
      objects: lfs.plan.objects,
      bytes: lfs.plan.bytes,
      downloaded: [...now].filter((oid) => !lfs.cached.has(oid)).length,
      outsideSparse: lfs.plan.outside.length,
      outsideSparseBytes: lfs.plan.outsideBytes,
    },
  };
}
