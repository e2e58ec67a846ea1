// Phase "fetch": ask the source which commit it names (the git host, or a static mirror's pointer),
// decide (plan-sync.ts), and fetch the commit into the cache only when it is to be built. Then, for
// a build, verify its signature (data.verify).
import { existsSync } from 'node:fs';
import { versionDir } from '../layout.js';
import { configureRepo, ensureRepo, fetchCommit, resolveRemote } from '../repo.js';
import type { StaticSource, StaticTarget } from '../static-source.js';
import { verifyCommit, writeAllowedSigners } from '../verify.js';
import type { Attempt, EngineContext } from './attempt.js';
import { planSync, type SyncDecision } from './plan-sync.js';

/** What the engine remembers about its fetch cache between syncs. */
export interface RepoCache {
  /** Whether repo.git is configured for the recipe (set again when the cache is recreated). */
  configured: boolean;
  /** What resolveRemote learnt about the remote (whether the ref is a tag). */
  remote: { tagRef?: boolean };
}

export interface FetchInput {
  cache: RepoCache;
  /** data.source.static: versions come from a static mirror; undefined for a git remote. */
  staticSource: StaticSource | undefined;
  /** The commit served before this sync. */
  previous: string | undefined;
  /** The commit a rollback holds back. */
  held: string | undefined;
}

export interface FetchedTarget {
  commit: string;
  decision: SyncDecision;
  /** The mirror's answer (static source): remembered once the sync serves its commit. */
  staticTarget?: StaticTarget;
}

/** Resolves the source's commit, decides, and fetches it when it is to be built. */
export async function fetchTarget(
  ctx: EngineContext,
  attempt: Attempt,
  input: FetchInput,
): Promise<FetchedTarget> {
  const { layout, data } = ctx;
  const { git, signal } = attempt;
  const { staticSource, previous } = input;
  const decide = (commit: string) =>
    planSync({ commit, previous, held: input.held, kept: existsSync(versionDir(layout, commit)) });
  const prepareCache = async () => {
    if (await ensureRepo(git, layout)) input.cache.configured = false;
    if (!input.cache.configured) {
      await configureRepo(git, layout, data);
      input.cache.configured = true;
    }
  };
  let staticTarget: StaticTarget | undefined;
  let commit: string;
  let target: Awaited<ReturnType<typeof resolveRemote>> | undefined;
  if (staticSource) {
    // The cache is touched only when there is something to fetch.
    staticTarget = await staticSource.poll(signal);
    commit = staticTarget.commit;
  } else {
    await prepareCache();
    target = await resolveRemote(git, data, input.cache.remote);
    commit = target.commit;
  }
  let decision = decide(commit);
  if (decision === 'build' && staticSource && staticTarget) {
    if (!staticTarget.pointer) {
      // A 304 for a commit that is neither served nor kept (its folder went): ask again in full.
      staticSource.forget();
      staticTarget = await staticSource.poll(signal);
      commit = staticTarget.commit;
      decision = decide(commit);
    }
    if (decision === 'build') {
      await prepareCache();
      commit = await staticSource.fetch(git, staticTarget, previous, signal);
      decision = decide(commit);
    }
  } else if (decision === 'build' && target) {
    commit = await fetchCommit(git, layout, data, target);
    decision = decide(commit);
  }
  return { commit, decision, ...(staticTarget ? { staticTarget } : {}) };
}

/** Verifies the commit's signature against data.verify's allowed signers (when set). */
export async function verifyFetched(
  ctx: EngineContext,
  attempt: Attempt,
  commit: string,
): Promise<void> {
  const { data, layout } = ctx;
  if (!data.verify) return;
  attempt.phase = 'verify';
  writeAllowedSigners(layout.allowedSigners, data.verify.allowed_signers);
  await verifyCommit(attempt.git, commit, layout.allowedSigners);
}
