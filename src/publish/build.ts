// Turning a snapshot plan into bytes, and proving it: archives are written (deterministically, times
// carried over from the archives already in the data repo), then the data repo's tree is laid out in
// a scratch folder and the agents' own transforms and checks (data-sync) are run on it; the result
// must be the folder, file for file. A publish the instances would refuse, or that would not give
// them the folder back, stops here, before anything is pushed.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { runChecks } from '../../data-sync/src/check.js';
import { execCommand, type Exec } from '../../data-sync/src/exec.js';
import { SyncFailure } from '../../data-sync/src/failure.js';
import { resolveLimits } from '../../data-sync/src/limits.js';
import { applyTransforms } from '../../data-sync/src/transform.js';
import type { DataCheck, DataConfig } from '../recipe/schema.js';
import type { ArchiveIndex } from './archive-index.js';
import { PublishError } from './errors.js';
import { planMembers } from './mtime-plan.js';
import { scanFolder } from './scan.js';
import type { ArchiveEntry, Entry, FileEntry, Tree } from './snapshot-plan.js';
import { gzipDeterministic, writeTar } from './tar-writer.js';

/** An entry of the data repo's tree, with its bytes at hand. */
export type RepoEntry =
  | { kind: 'file'; exec: boolean; source: string; data?: undefined }
  | { kind: 'file'; exec: boolean; data: Buffer; archive: { members: number } }
  | { kind: 'symlink'; target: string };

/** The data repo's tree: every file, link and archive by path (folders are implied). */
export type RepoTree = Map<string, RepoEntry>;

/**
 * Writes the archives of `snapshot` (inner ones first), each member's time carried over from
 * `previous(archivePath)` when its content did not change, else `now` (seconds).
 */
export async function buildRepoTree(
  snapshot: Tree,
  previous: (archive: string) => Promise<ArchiveIndex>,
  now: number,
): Promise<RepoTree> {
  const out: RepoTree = new Map();
  for (const [p, e] of snapshot) {
    if (e.kind === 'dir') continue;
    if (e.kind === 'symlink') out.set(p, { kind: 'symlink', target: e.target });
    else if (e.kind === 'file') out.set(p, { kind: 'file', exec: e.exec, source: e.source });
    else {
      const built = await buildArchive(e, await previous(p), now);
      out.set(p, {
        kind: 'file',
        exec: false,
        data: built.data,
        archive: { members: built.members },
      });
    }
  }
  return out;
}

async function buildArchive(
  entry: ArchiveEntry,
  previous: ArchiveIndex,
  now: number,
): Promise<{ data: Buffer; members: number }> {
  // An archive inside this one is built first and becomes a file member. (Its own members get the
  // time of the publish: only the outermost archives are compared with what the data repo holds.)
  const members: Tree = new Map();
  for (const [rel, e] of entry.members) {
    if (e.kind !== 'archive') {
      members.set(rel, e);
      continue;
    }
    const inner = await buildArchive(e, new Map(), now);
    const file: FileEntry = {
      kind: 'file',
      exec: false,
      size: inner.data.length,
      sha256: sha256(inner.data),
      source: '',
      data: inner.data,
    };
    members.set(rel, file);
  }
  const planned = planMembers(members, entry.step.prefix, previous, now);
  const longLink = planned.find(
    (m) => m.kind === 'symlink' && Buffer.byteLength(m.target ?? '') > 100,
  );
  if (longLink) {
    // A pax "linkpath" is what tar offers for these, and the agents' reader (node-tar) drops it.
    throw new PublishError(
      `${longLink.name} is a symlink to a target longer than 100 bytes, which the instances cannot unpack from ${entry.step.archive}`,
      {
        key: `data.transform[${entry.step.transform}]`,
        hint: 'shorten the link target (a relative path)',
      },
    );
  }
  const tar = writeTar(
    planned.map((m) => ({
      name: m.name,
      kind: m.kind,
      mtime: m.mtime,
      ...(m.exec !== undefined ? { exec: m.exec } : {}),
      ...(m.target !== undefined ? { target: m.target } : {}),
      ...(m.file ? { data: m.file.data ?? readSource(m.file.source) } : {}),
    })),
  );
  return { data: entry.step.gzip ? gzipDeterministic(tar) : tar, members: planned.length };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function readSource(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new PublishError(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (did it change while publishing?)`,
      {
        hint: 'publish a folder that nothing writes to meanwhile (e.g. a copy made when the results are complete)',
      },
    );
  }
}

/** Lays the data repo's tree out in `dir` (files hard-linked from the folder when they can be). */
export function materialize(tree: RepoTree, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [p, e] of tree) {
    const at = path.join(dir, p);
    mkdirSync(path.dirname(at), { recursive: true });
    if (e.kind === 'symlink') symlinkSync(e.target, at);
    else if (e.data) writeFileSync(at, e.data, { mode: 0o644 });
    else {
      try {
        linkSync(e.source, at);
      } catch {
        copyFileSync(e.source, at);
      }
    }
  }
}

/** Checks that name the service or its port run on the instances only. */
export function instanceOnly(check: DataCheck): boolean {
  return (check.run ?? []).some((a) => /\{(service|port)\}/.test(a));
}

/**
 * The round trip: the agents' transforms and checks on the laid-out tree, then a comparison with
 * the folder. Returns the checks it could not run here (they run on the instances).
 */
export async function verifyRoundTrip(options: {
  data: DataConfig;
  tree: RepoTree;
  folder: Tree;
  /** The folder itself, when there are no transforms (it is then checked in place). */
  folderDir: string;
  scratch: string;
  state: string;
  exec?: Exec;
  signal?: AbortSignal;
}): Promise<string[]> {
  const { data } = options;
  const skipped = data.check.filter(instanceOnly);
  const checks = data.check.filter((c) => !instanceOnly(c));
  const exec = options.exec ?? execCommand;
  const context = (root: string) => ({
    root,
    exec,
    placeholders: { state: options.state },
    env: { ...process.env },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    if (data.transform.length === 0) {
      await runChecks(checks, context(options.folderDir));
    } else {
      rmSync(options.scratch, { recursive: true, force: true });
      const root = path.join(options.scratch, 'version');
      materialize(options.tree, root);
      await applyTransforms(data.transform, context(root), {
        scratch: path.join(options.scratch, 'tmp'),
        limits: resolveLimits(data.limits),
      });
      await runChecks(checks, context(root));
      const kept = new Set(
        data.transform
          .filter((t) => t.extract !== undefined && t.keep_archive)
          .map((t) => t.extract!),
      );
      compareTrees(options.folder, await scanFolder(root), kept);
    }
  } catch (error) {
    if (error instanceof SyncFailure) {
      throw new PublishError(`the instances would refuse this version: ${error.message}`, {
        key: `data.${error.phase === 'check' ? 'check' : 'transform'}`,
        hint:
          error.hint ?? `fix the folder, or data.${error.phase} in the recipe; nothing was pushed`,
      });
    }
    throw error;
  } finally {
    rmSync(options.scratch, { recursive: true, force: true });
  }
  return skipped.map(
    (c) =>
      `check ${data.check.indexOf(c) + 1} (run ${c.run?.[0] ?? ''}) names {service} or {port}: it runs on the instances only`,
  );
}

function same(a: Entry, b: Entry): boolean {
  if (a.kind === 'file' && b.kind === 'file') return a.sha256 === b.sha256 && a.exec === b.exec;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  return a.kind === b.kind;
}

/** Throws when the unpacked version is not the folder (folders aside: git keeps no empty ones). */
function compareTrees(folder: Tree, unpacked: Tree, ignore: ReadonlySet<string>): void {
  const paths = new Set([...folder.keys(), ...unpacked.keys()]);
  for (const p of [...paths].sort()) {
    if (ignore.has(p)) continue;
    const a = folder.get(p);
    const b = unpacked.get(p);
    // A folder on one side only is an empty one git did not keep; a folder against a file is not.
    if ((a?.kind === 'dir' || b?.kind === 'dir') && (!a || !b || a.kind === b.kind)) continue;
    if (a && b && same(a, b)) continue;
    throw new PublishError(
      `the instances would not get the folder back: ${p} ${!b ? 'is missing from' : !a ? 'is extra in' : 'differs in'} the version they would build`,
      {
        hint: 'this is a bug in bootstrap publish for these transforms; nothing was pushed (please report it with the recipe)',
      },
    );
  }
}
