// Planning the fetch: which refs to ask the git host about, the exact `git fetch` to run, and the
// sparse-checkout patterns. Pure: returns argv and text, runs nothing (golden tests pin them).
import type { DataConfig } from '../../src/recipe/schema.js';
import { isCommitId } from './layout.js';

/** The local ref every fetch writes; the only ref in the fetch cache. */
export const FETCHED_REF = 'refs/gitstrap/fetched';

/** One question to the git host: an `ls-remote` limited server-side to one ref namespace. */
export interface RefQuery {
  args: string[];
  /** The full ref name this query looks for. */
  ref: string;
}

/**
 * The ls-remote queries that find `ref` on the host, tried in order until one answers. A branch name
 * is looked up among branches first (the host sends only refs/heads/*, not the tag list), then tags.
 * Undefined for a full commit SHA: a pin needs no question.
 */
export function planRefQueries(ref: string): RefQuery[] | undefined {
  if (isCommitId(ref)) return undefined;
  // ls-remote filters by pattern on its side; the peeled line of an annotated tag ("^{}") must be
  // asked for by name too.
  const query = (flag: string | undefined, full: string): RefQuery => ({
    args: ['ls-remote', ...(flag ? [flag] : []), 'origin', full, `${full}^{}`],
    ref: full,
  });
  if (ref.startsWith('refs/heads/')) return [query('--heads', ref)];
  if (ref.startsWith('refs/tags/')) return [query('--tags', ref)];
  if (ref.startsWith('refs/')) return [query(undefined, ref)];
  return [query('--heads', `refs/heads/${ref}`), query('--tags', `refs/tags/${ref}`)];
}

/** What the host said about one ref: the object it points at and the commit (tags peeled). */
export interface RemoteRef {
  ref: string;
  object: string;
  commit: string;
}

/** Finds `ref` in `git ls-remote` output ("SHA<TAB>name" lines; "name^{}" is the peeled tag). */
export function parseLsRemote(output: string, ref: string): RemoteRef | undefined {
  let object: string | undefined;
  let peeled: string | undefined;
  for (const line of output.split('\n')) {
    const [sha, name] = line.trim().split('\t');
    if (!sha || !name || !isCommitId(sha)) continue;
    if (name === ref) object = sha;
    else if (name === `${ref}^{}`) peeled = sha;
  }
  return object === undefined ? undefined : { ref, object, commit: peeled ?? object };
}

/** What to fetch: a full ref name (as found on the host) or a pinned commit. */
export type FetchSource = { ref: string } | { commit: string };

/** The `git fetch` that brings exactly one ref (or commit) into the cache, without tags. */
export function planFetch(
  data: Pick<DataConfig, 'depth' | 'filter'>,
  source: FetchSource,
  repoIsShallow: boolean,
): string[] {
  const depth = data.depth > 0 ? [`--depth=${data.depth}`] : repoIsShallow ? ['--unshallow'] : [];
  const src = 'ref' in source ? source.ref : source.commit;
  return [
    // No background maintenance: nothing may outlive the sync that started it.
    '-c',
    'maintenance.auto=false',
    '-c',
    'gc.auto=0',
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-recurse-submodules',
    '--no-write-fetch-head',
    '--no-show-forced-updates',
    ...depth,
    ...(data.filter ? [`--filter=${data.filter}`] : []),
    'origin',
    `+${src}:${FETCHED_REF}`,
  ];
}

/** The repository settings the cache needs for this data config, as `git config` key/values. */
export function planRepoConfig(
  data: Pick<DataConfig, 'repo' | 'filter' | 'sparse'>,
): Array<[string, string]> {
  const config: Array<[string, string]> = [
    ['remote.origin.url', data.repo],
    ['core.sparseCheckout', 'true'],
    ['core.sparseCheckoutCone', data.sparse?.length ? 'true' : 'false'],
  ];
  if (data.filter) {
    config.push(
      ['core.repositoryformatversion', '1'],
      ['extensions.partialClone', 'origin'],
      ['remote.origin.promisor', 'true'],
      ['remote.origin.partialclonefilter', data.filter],
    );
  }
  return config;
}

/**
 * The sparse-checkout file for `paths` (cone mode, as `git sparse-checkout set --cone` writes it);
 * without paths, one pattern that selects everything (so switching sparse off restores all files).
 */
export function planSparsePatterns(paths: readonly string[] | undefined): string {
  const dirs = (paths ?? [])
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '' && p !== '.');
  if (dirs.length === 0) return '/*\n';
  const escape = (p: string) => p.replace(/([*?[\]\\])/g, '\\$1');
  const leaves = [...new Set(dirs)].filter(
    (d) => !dirs.some((other) => other !== d && d.startsWith(`${other}/`)),
  );
  const parents = new Set<string>();
  for (const leaf of leaves) {
    const parts = leaf.split('/');
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join('/'));
  }
  const lines = ['/*', '!/*/'];
  for (const parent of [...parents].sort()) {
    if (leaves.includes(parent)) continue;
    lines.push(`/${escape(parent)}/`, `!/${escape(parent)}/*/`);
  }
  for (const leaf of leaves.sort()) lines.push(`/${escape(leaf)}/`);
  return lines.join('\n') + '\n';
}

/** The sparse paths as cone mode reads them: no leading or trailing "/", no "." or empty ones. */
function sparseDirs(paths: readonly string[] | undefined): string[] {
  return (paths ?? []).map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p !== '' && p !== '.');
}

/**
 * How far cone-mode sparse paths reach into the folder `dir` (e.g. where a submodule goes): "all"
 * when it is a listed path or inside one (or there are none), "partial" when a listed path is
 * inside it, "none" otherwise.
 */
export function sparseReach(
  dir: string,
  paths: readonly string[] | undefined,
): 'all' | 'partial' | 'none' {
  const dirs = sparseDirs(paths);
  if (dirs.length === 0) return 'all';
  if (dirs.some((d) => dir === d || dir.startsWith(`${d}/`))) return 'all';
  if (dirs.some((d) => d.startsWith(`${dir}/`))) return 'partial';
  return 'none';
}

/**
 * Whether cone mode checks out the file `file` (as planSparsePatterns' patterns select): files at
 * the top, everything under a listed path, and the files directly in a folder on the way to one.
 */
export function inSparseCone(file: string, paths: readonly string[] | undefined): boolean {
  const slash = file.lastIndexOf('/');
  if (slash < 0) return true;
  const parent = file.slice(0, slash);
  const reach = sparseReach(parent, paths);
  return reach !== 'none';
}
