// The fetch cache (repo.git, bare): created atomically, configured for the recipe, asked which commit
// the ref points at, and fetched from: one ref, no tags, shallow by default.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConfig } from '../../src/recipe/schema.js';
import { redactCredentials, lastLines, SyncFailure } from './failure.js';
import {
  FETCHED_REF,
  parseLsRemote,
  planFetch,
  planRefQueries,
  planRepoConfig,
  planSparsePatterns,
  type FetchSource,
} from './fetch-plan.js';
import { gitFailure, type Git } from './git.js';
import type { DataLayout } from './layout.js';
import { describeExit } from './exec.js';
import { lfsEndpoint, planLfsConfig, planLfsOffConfig } from './lfs-plan.js';

const FETCH_HINT =
  'check data.repo and data.ref, that the git host is reachable from this machine, and the credentials (data.auth)';

/** Creates the bare cache if it is missing (in a temporary folder renamed into place); true if it did. */
export async function ensureRepo(git: Git, layout: DataLayout): Promise<boolean> {
  if (existsSync(path.join(layout.repo, 'HEAD'))) return false;
  mkdirSync(layout.dir, { recursive: true });
  const tmp = `${layout.repo}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await git.ok('fetch', ['init', '--bare', '--quiet', tmp], { gitDir: tmp });
  renameSync(tmp, layout.repo);
  return true;
}

/** Brings the cache's configuration and sparse patterns in line with the recipe (writes only changes). */
export async function configureRepo(git: Git, layout: DataLayout, data: DataConfig): Promise<void> {
  const listed = await git.ok('fetch', ['config', '--local', '--list']);
  const have = new Map<string, string>();
  for (const line of listed.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) have.set(line.slice(0, eq).toLowerCase(), line.slice(eq + 1));
  }
  const endpoint = data.lfs ? lfsEndpoint(data.repo) : undefined;
  for (const [key, value] of [
    ...planRepoConfig(data),
    ...(endpoint ? planLfsConfig(endpoint) : planLfsOffConfig()),
  ]) {
    if (have.get(key.toLowerCase()) !== value) await git.ok('fetch', ['config', key, value]);
  }
  if (!data.filter && have.has('remote.origin.partialclonefilter')) {
    // Keep the cache a promisor (blobs fetched before stay lazily fetchable); fetch everything from now on.
    await git.ok('fetch', ['config', '--unset', 'remote.origin.partialclonefilter']);
  }
  const sparseFile = path.join(layout.repo, 'info', 'sparse-checkout');
  const patterns = planSparsePatterns(data.sparse);
  let current: string | undefined;
  try {
    current = readFileSync(sparseFile, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== patterns) {
    mkdirSync(path.dirname(sparseFile), { recursive: true });
    writeFileSync(`${sparseFile}.tmp`, patterns);
    renameSync(`${sparseFile}.tmp`, sparseFile);
  }
}

/** Where the ref points on the host, and what to fetch to get it. */
export interface RemoteTarget {
  commit: string;
  source: FetchSource;
}

/**
 * Asks the host where `data.ref` points (one round trip, limited server-side to branches or tags);
 * a full commit SHA needs no question. `preferTags` tries tags first (a ref found among tags before).
 */
export async function resolveRemote(
  git: Git,
  data: DataConfig,
  memory: { tagRef?: boolean },
): Promise<RemoteTarget> {
  const queries = planRefQueries(data.ref);
  if (!queries) return { commit: data.ref, source: { commit: data.ref } };
  const ordered = memory.tagRef ? [...queries].reverse() : queries;
  for (const query of ordered) {
    const result = await git.run(query.args);
    if (result.code !== 0) {
      const why = lastLines(redactCredentials(result.stderr), 3).join('; ');
      throw new SyncFailure(
        'fetch',
        `cannot ask ${redactCredentials(data.repo)} for ${data.ref} (${describeExit(result)})${why ? `: ${why}` : ''}`,
        FETCH_HINT,
      );
    }
    const found = parseLsRemote(result.stdout, query.ref);
    if (found) {
      memory.tagRef = found.ref.startsWith('refs/tags/');
      return { commit: found.commit, source: { ref: found.ref } };
    }
  }
  throw new SyncFailure(
    'fetch',
    `${redactCredentials(data.repo)} has no branch or tag named ${data.ref}`,
    'check data.ref (a branch, a tag, or a full 40-hex commit SHA)',
  );
}

/**
 * Fetches the commit the host named into the cache. Asking for the commit itself saves the fetch
 * its own ref listing (one round trip); a host that refuses (the ref moved meanwhile, or an old
 * server that serves only advertised tips by name) is asked for the ref by name instead.
 * Returns the commit fetched.
 */
export async function fetchCommit(
  git: Git,
  layout: DataLayout,
  data: DataConfig,
  target: RemoteTarget,
): Promise<string> {
  const shallow = existsSync(path.join(layout.repo, 'shallow'));
  const byCommit = planFetch(data, { commit: target.commit }, shallow);
  if ('commit' in target.source) {
    await git.ok('fetch', byCommit, { hint: FETCH_HINT });
    return target.commit;
  }
  const first = await git.run(byCommit);
  if (first.code === 0) {
    if (!target.source.ref.startsWith('refs/tags/')) return target.commit;
    // A tag the host did not peel: make sure the version is named by the commit, not the tag.
    return (
      await git.ok('fetch', ['rev-parse', '--verify', '--quiet', `${target.commit}^{commit}`])
    ).trim();
  }
  if (
    !/not our ref|unadvertised object|couldn't find remote ref|want .* not valid/i.test(
      first.stderr,
    )
  ) {
    throw gitFailure('fetch', byCommit, first, undefined, FETCH_HINT);
  }
  await git.ok('fetch', planFetch(data, target.source, shallow), { hint: FETCH_HINT });
  return (
    await git.ok('fetch', ['rev-parse', '--verify', '--quiet', `${FETCHED_REF}^{commit}`])
  ).trim();
}
