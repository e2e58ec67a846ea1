// Planning Git LFS for a data version: the cache's configuration (the filter, and an LFS endpoint
// derived from data.repo that the data repo's own .lfsconfig cannot move), which pointers of the
// version's tree are inside the sparse paths (fetched) and which are not (never downloaded), and
// what they add up to. Pure: argv-free, golden-tested; lfs.ts executes it.
import { inSparseCone } from './fetch-plan.js';
import { describeUrl } from './submodule-plan.js';

/** One LFS pointer file of a tree: where it is, and the object it stands for. */
export interface LfsPointer {
  path: string;
  oid: string;
  size: number;
}

/** Parses `git lfs ls-files --json TREE` output (git-lfs 3): `{"files": [{name, oid, size, ...}]}`. */
export function parseLfsFiles(json: string): LfsPointer[] {
  if (json.trim() === '') return [];
  const parsed = JSON.parse(json) as { files?: Array<Record<string, unknown>> | null };
  return (parsed.files ?? []).map((f) => {
    const oid = String(f.oid);
    const size = Number(f.size);
    if (!/^[0-9a-f]{64}$/.test(oid) || !Number.isSafeInteger(size) || size < 0) {
      throw new Error(`git lfs ls-files gave an object it should not: ${JSON.stringify(f)}`);
    }
    return { path: String(f.name), oid, size };
  });
}

/** What a version needs from LFS: the pointers inside the sparse paths, and those left out. */
export interface LfsPlan {
  inside: LfsPointer[];
  outside: LfsPointer[];
  /** Bytes the version's LFS files take (each file counted, as each is written). */
  bytes: number;
  /** Distinct objects inside. */
  objects: number;
  outsideBytes: number;
}

/** Splits a tree's pointers by the sparse paths (cone mode); none given: all are inside. */
export function planLfs(pointers: readonly LfsPointer[], sparse?: readonly string[]): LfsPlan {
  const inside = pointers.filter((p) => inSparseCone(p.path, sparse));
  const outside = pointers.filter((p) => !inSparseCone(p.path, sparse));
  const sum = (list: readonly LfsPointer[]) => list.reduce((n, p) => n + p.size, 0);
  return {
    inside,
    outside,
    bytes: sum(inside),
    objects: new Set(inside.map((p) => p.oid)).size,
    outsideBytes: sum(outside),
  };
}

/**
 * The LFS endpoint of a repo, as git-lfs guesses it (docs/api/server-discovery.md): an https or
 * http repo's URL with ".git/info/lfs" appended; for ssh and git:// repos the https URL of the same
 * host and path. An SSH repo keeps its ssh:// form, so git-lfs authenticates over SSH
 * (git-lfs-authenticate). Undefined for a local repo (no LFS server).
 */
export function lfsEndpoint(repoUrl: string): string | undefined {
  const kind = describeUrl(repoUrl);
  if (kind.kind !== 'network') return undefined;
  const withGit = (p: string) => {
    const trimmed = p.replace(/\/+$/, '');
    return trimmed.endsWith('.git') ? trimmed : `${trimmed}.git`;
  };
  if (kind.scheme === 'https' || kind.scheme === 'http') {
    return `${withGit(repoUrl.split(/[?#]/)[0]!)}/info/lfs`;
  }
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/]*)(\/.*)?$/.exec(repoUrl);
  if (kind.scheme === 'ssh') {
    if (scheme) return `ssh://${scheme[1]}${scheme[2] ?? '/'}`;
    // scp-like user@host:path
    const colon = repoUrl.indexOf(':');
    const path = repoUrl.slice(colon + 1);
    return `ssh://${repoUrl.slice(0, colon)}${path.startsWith('/') ? '' : '/'}${path}`;
  }
  // git://host[:port]/path: git-lfs asks https://host/path.git/info/lfs
  const host = kind.host.includes(':') ? `[${kind.host}]` : kind.host;
  return `https://${host}${withGit(scheme?.[2] ?? '/')}/info/lfs`;
}

/**
 * The cache settings for LFS (as `git lfs install --local` writes the filter), plus the endpoint
 * and the settings a data repo's .lfsconfig could otherwise change: repository config wins over
 * .lfsconfig, so the endpoint, what is fetched and whether download errors are skipped are the
 * recipe's, not the data repo's.
 */
export function planLfsConfig(endpoint: string): Array<[string, string]> {
  return [
    ['filter.lfs.process', 'git-lfs filter-process'],
    ['filter.lfs.smudge', 'git-lfs smudge -- %f'],
    ['filter.lfs.clean', 'git-lfs clean -- %f'],
    ['filter.lfs.required', 'true'],
    ['lfs.url', endpoint],
    ['remote.origin.lfsurl', endpoint],
    ['lfs.fetchinclude', ''],
    ['lfs.fetchexclude', ''],
    ['lfs.skipdownloaderrors', 'false'],
  ];
}

/**
 * The cache settings without data.lfs: the LFS filter switched off in the cache, so a filter a
 * system config installs (Debian's git-lfs package runs `git lfs install --system`) downloads
 * nothing the recipe did not ask for; the version then fails with a hint instead of holding
 * pointers.
 */
export function planLfsOffConfig(): Array<[string, string]> {
  return [
    ['filter.lfs.process', ''],
    ['filter.lfs.smudge', ''],
    ['filter.lfs.clean', ''],
    ['filter.lfs.required', 'false'],
  ];
}

/** Where git-lfs keeps an object in a repository's git dir: lfs/objects/OI/D-/OID. */
export function lfsObjectPath(gitDir: string, oid: string): string {
  return `${gitDir}/lfs/objects/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
}

/** Whether a .gitattributes text routes any path through the LFS filter. */
export function routesThroughLfs(gitattributes: string): boolean {
  return gitattributes
    .split('\n')
    .some((line) => !line.trimStart().startsWith('#') && /(^|\s)filter=lfs(\s|$)/.test(line));
}
