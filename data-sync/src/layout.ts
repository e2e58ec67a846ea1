// Where everything lives inside a data folder (see README.md, "The contract"). Pure.
import path from 'node:path';

/** The paths of one data folder. */
export interface DataLayout {
  dir: string;
  /** The symlink readers follow: current -> versions/COMMIT. */
  current: string;
  /** Complete, published versions, each named by its commit; never written to. */
  versions: string;
  /** Where the next version is built; never served. */
  staging: string;
  /** The folder the next version is built in, and its git index (kept outside the folder). */
  next: string;
  nextIndex: string;
  /** One git index per version folder, named by its commit, so a folder can be reused cheaply. */
  indexes: string;
  /** What each version holds besides its commit (submodule commits, LFS figures), by commit. */
  manifests: string;
  /** The manifest of the version being built. */
  nextManifest: string;
  /** Folders on their way out: renamed here, then deleted. */
  trash: string;
  /** The bare fetch cache. */
  repo: string;
  /** The publish journal: publish order and rolled-back commits. */
  journal: string;
  lock: string;
  /** Child processes of the lock owner, so a new owner can stop a dead owner's orphans. */
  lockChildren: string;
  allowedSigners: string;
}

/** The layout of the data folder `dir` (made absolute). */
export function dataLayout(dir: string): DataLayout {
  const root = path.resolve(dir);
  const staging = path.join(root, 'staging');
  return {
    dir: root,
    current: path.join(root, 'current'),
    versions: path.join(root, 'versions'),
    staging,
    next: path.join(staging, 'next'),
    nextIndex: path.join(staging, 'next.index'),
    indexes: path.join(root, 'indexes'),
    manifests: path.join(root, 'manifests'),
    nextManifest: path.join(staging, 'next.json'),
    trash: path.join(root, 'trash'),
    repo: path.join(root, 'repo.git'),
    journal: path.join(root, 'journal.json'),
    lock: path.join(root, 'sync.lock'),
    lockChildren: path.join(root, 'sync.lock.children'),
    allowedSigners: path.join(root, 'allowed_signers'),
  };
}

/** The folder of the version built from `commit`. */
export function versionDir(layout: DataLayout, commit: string): string {
  return path.join(layout.versions, commit);
}

/** The git index that describes the folder of `commit`. */
export function indexFile(layout: DataLayout, commit: string): string {
  return path.join(layout.indexes, `${commit}.index`);
}

/** The manifest of the version of `commit` (written only when it has submodules or LFS files). */
export function manifestFile(layout: DataLayout, commit: string): string {
  return path.join(layout.manifests, `${commit}.json`);
}

/** The symlink target written into `current` (relative, so the state root can move). */
export function currentTarget(commit: string): string {
  return `versions/${commit}`;
}

/** Whether a name is a full commit id (SHA-1 or SHA-256). */
export function isCommitId(name: string): boolean {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(name);
}
