// The data folder on disk: reading and swapping `current`, listing versions, moving folders between
// staging/, versions/ and trash/, and cleaning up what a killed sync left behind. Every change that
// readers could see is one rename(2).
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { VersionManifest } from './api.js';
import {
  currentTarget,
  indexFile,
  isCommitId,
  manifestFile,
  versionDir,
  type DataLayout,
} from './layout.js';

/** The commit `current` points at, if it points at an existing version folder. */
export function readCurrent(layout: DataLayout): { commit: string; dir: string } | undefined {
  let target: string;
  try {
    target = readlinkSync(layout.current);
  } catch {
    return undefined;
  }
  const commit = path.basename(target);
  const dir = path.resolve(layout.dir, target);
  if (!isCommitId(commit) || dir !== versionDir(layout, commit) || !existsSync(dir))
    return undefined;
  return { commit, dir };
}

/** The version folders in versions/. */
export function listVersions(layout: DataLayout): string[] {
  try {
    return readdirSync(layout.versions).filter(isCommitId);
  } catch {
    return [];
  }
}

/** Points `current` at the version of `commit` by renaming a new symlink over the old one. */
export function swapCurrent(layout: DataLayout, commit: string): void {
  const tmp = `${layout.current}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  symlinkSync(currentTarget(commit), tmp);
  try {
    renameSync(tmp, layout.current);
  } catch (error) {
    unlinkQuietly(tmp);
    throw error;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already
  }
}

function isDir(file: string): boolean {
  try {
    return lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** Moves the finished staging folder (and its index) into versions/ as the version of `commit`. */
export function finalizeStaging(layout: DataLayout, commit: string): void {
  mkdirSync(layout.versions, { recursive: true });
  mkdirSync(layout.indexes, { recursive: true });
  // Index first: a crash between the two renames leaves a folder without index (rebuilt in full
  // next time) and an orphan index (removed by recovery), never a wrong index.
  if (existsSync(layout.nextIndex)) renameSync(layout.nextIndex, indexFile(layout, commit));
  // The manifest before the folder too: a version is never without the manifest it was built with.
  if (existsSync(layout.nextManifest)) {
    mkdirSync(layout.manifests, { recursive: true });
    renameSync(layout.nextManifest, manifestFile(layout, commit));
  } else unlinkQuietly(manifestFile(layout, commit));
  renameSync(layout.next, versionDir(layout, commit));
}

/** What the version of `commit` holds besides its files, when it was recorded. */
export function readManifest(layout: DataLayout, commit: string): VersionManifest | undefined {
  try {
    return JSON.parse(readFileSync(manifestFile(layout, commit), 'utf8')) as VersionManifest;
  } catch {
    return undefined;
  }
}

/** Records what the version being built holds besides its files (moved along at finalize). */
export function writeNextManifest(layout: DataLayout, manifest: VersionManifest): void {
  mkdirSync(layout.staging, { recursive: true });
  writeFileSync(layout.nextManifest, JSON.stringify(manifest, null, 2) + '\n');
}

/** Moves an idle version folder (and its index) to staging/, where the next version is built. */
export function recycleVersion(layout: DataLayout, commit: string): void {
  mkdirSync(layout.staging, { recursive: true });
  const index = indexFile(layout, commit);
  if (existsSync(index)) renameSync(index, layout.nextIndex);
  else unlinkQuietly(layout.nextIndex);
  unlinkQuietly(manifestFile(layout, commit));
  renameSync(versionDir(layout, commit), layout.next);
}

/** Moves a version folder to trash/ (instant), to be deleted by emptyTrash. */
export function trashVersion(layout: DataLayout, commit: string): void {
  mkdirSync(layout.trash, { recursive: true });
  unlinkQuietly(indexFile(layout, commit));
  unlinkQuietly(manifestFile(layout, commit));
  renameSync(
    versionDir(layout, commit),
    path.join(layout.trash, `${commit}-${randomBytes(4).toString('hex')}`),
  );
}

/** Deletes the staging folder and its index (to free space after a failed build). */
export async function dropStaging(layout: DataLayout): Promise<void> {
  unlinkQuietly(layout.nextIndex);
  await rm(layout.next, { recursive: true, force: true });
}

/** Deletes what is in trash/. */
export async function emptyTrash(layout: DataLayout): Promise<void> {
  await rm(layout.trash, { recursive: true, force: true });
}

/**
 * Cleans up after a sync that was killed: temporary symlinks, lock files git left, orphan indexes,
 * stray staging entries, a half-created fetch cache. Runs with the sync lock held; trash/ is emptied
 * separately (asynchronously: it can be large). Returns what it removed (for the log).
 */
export function recoverLeftovers(layout: DataLayout): string[] {
  const removed: string[] = [];
  const remove = (file: string) => {
    try {
      rmSync(file, { recursive: true, force: true });
      removed.push(path.relative(layout.dir, file));
    } catch {
      // left for the next attempt
    }
  };
  for (const name of safeReaddir(layout.dir)) {
    if (
      /^current\.tmp-/.test(name) ||
      /^sync\.lock\.(\d+\..*\.tmp|stale-\d+)$/.test(name) ||
      /\.\d+\.tmp$/.test(name)
    ) {
      remove(path.join(layout.dir, name));
    }
    if (/^repo\.git\.tmp-/.test(name)) remove(path.join(layout.dir, name));
  }
  for (const name of safeReaddir(layout.staging)) {
    if (name !== 'next' && name !== 'next.index' && name !== 'next.json')
      remove(path.join(layout.staging, name));
  }
  if (existsSync(layout.nextIndex) && !isDir(layout.next)) remove(layout.nextIndex);
  const versions = new Set(listVersions(layout));
  for (const name of safeReaddir(layout.indexes)) {
    const commit = name.replace(/\.index$/, '');
    if (!name.endsWith('.index') || !versions.has(commit)) remove(path.join(layout.indexes, name));
  }
  for (const name of safeReaddir(layout.manifests)) {
    if (!versions.has(name.replace(/\.json$/, '')) || !name.endsWith('.json'))
      remove(path.join(layout.manifests, name));
  }
  if (existsSync(layout.repo)) {
    if (!existsSync(path.join(layout.repo, 'HEAD')) || !isDir(path.join(layout.repo, 'objects'))) {
      remove(layout.repo);
    } else {
      for (const name of [
        'shallow.lock',
        'packed-refs.lock',
        'config.lock',
        'index.lock',
        'HEAD.lock',
        'FETCH_HEAD.lock',
      ]) {
        const file = path.join(layout.repo, name);
        if (existsSync(file)) remove(file);
      }
      // refs/gitstrap/fetched and refs/gitstrap/modules/* (data.submodules), at any depth.
      const dropLocks = (dir: string, depth: number): void => {
        for (const name of safeReaddir(dir)) {
          const full = path.join(dir, name);
          if (name.endsWith('.lock')) remove(full);
          else if (depth < 4 && isDir(full)) dropLocks(full, depth + 1);
        }
      };
      dropLocks(path.join(layout.repo, 'refs', 'gitstrap'), 0);
    }
  }
  return removed;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
