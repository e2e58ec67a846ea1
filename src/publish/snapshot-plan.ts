// What the data repo holds for a folder: the folder's entries, with the recipe's transforms undone
// one by one (packing-plan.ts), so that applying them to the result gives the folder back. Pure: it
// works on listings (paths, kinds, hashes) and says which archive holds what; nothing is read or
// written (tar-writer.ts and git write the bytes).
import { PublishError } from './errors.js';
import type { PackStep } from './packing-plan.js';

/** A file of the folder: where its bytes are, and what they are. */
export interface FileEntry {
  kind: 'file';
  exec: boolean;
  size: number;
  sha256: string;
  /** Absolute path of the bytes. */
  source: string;
  /** The bytes themselves, when they are made in memory (an archive inside an archive). */
  data?: Buffer;
}
export interface LinkEntry {
  kind: 'symlink';
  target: string;
}
export interface DirEntry {
  kind: 'dir';
}
/** An archive the snapshot makes: its members, by path relative to the extract's `into`. */
export interface ArchiveEntry {
  kind: 'archive';
  step: Extract<PackStep, { kind: 'archive' }>;
  members: Tree;
}
export type Entry = FileEntry | LinkEntry | DirEntry | ArchiveEntry;

/** Entries by relative path ("a/b.txt"); folders are listed too (empty ones matter in archives). */
export type Tree = Map<string, Entry>;

const under = (p: string, dir: string) => dir === '.' || p === dir || p.startsWith(`${dir}/`);
const relativeTo = (p: string, dir: string) => (dir === '.' ? p : p.slice(dir.length + 1));
const join = (dir: string, rel: string) => (dir === '.' ? rel : rel === '' ? dir : `${dir}/${rel}`);

function transformKey(step: PackStep): string {
  return `data.transform[${step.transform}]`;
}

/** Adds the folders above `p` that the tree does not list yet. */
function addParents(tree: Tree, p: string): void {
  const parts = p.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const have = tree.get(dir);
    if (!have) tree.set(dir, { kind: 'dir' });
  }
}

/** The entries at and under `dir`, by path relative to it ('' for `dir` itself). */
function subtree(tree: Tree, dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const [p, e] of tree) if (under(p, dir)) out.set(p === dir ? '' : relativeTo(p, dir), e);
  return out;
}

/** Whether two entries are the same content (kind, bytes, exec bit, link target). */
function sameEntry(a: Entry, b: Entry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'file' && b.kind === 'file') return a.sha256 === b.sha256 && a.exec === b.exec;
  if (a.kind === 'symlink' && b.kind === 'symlink') return a.target === b.target;
  if (a.kind === 'archive' && b.kind === 'archive') return false; // cannot tell: refuse
  return true;
}

function packArchive(tree: Tree, step: Extract<PackStep, { kind: 'archive' }>): Tree {
  const key = transformKey(step);
  const members: Tree = new Map();
  const next: Tree = new Map();
  const keptArchive = step.keepArchive && under(step.archive, step.into);
  for (const [p, e] of tree) {
    if (!under(p, step.into)) {
      next.set(p, e);
      continue;
    }
    if (p === step.into) continue; // the extract makes `into` itself
    if (keptArchive && p === step.archive) {
      throw new PublishError(
        `the folder has its own ${step.archive}, but ${key} keeps the archive of that name in the version (keep_archive)`,
        { key, hint: `rename ${step.archive} in the folder, or set keep_archive: false` },
      );
    }
    members.set(relativeTo(p, step.into), e);
  }
  const at = next.get(step.archive);
  if (at) {
    throw new PublishError(
      `the folder has ${at.kind === 'dir' ? 'a folder' : 'a file'} ${step.archive}, where ${key} reads its archive`,
      {
        key,
        hint: `move ${step.archive} out of the folder, or put it under data.transform's into`,
      },
    );
  }
  addParents(next, step.archive);
  next.set(step.archive, { kind: 'archive', step, members });
  return next;
}

function unmove(tree: Tree, step: Extract<PackStep, { kind: 'unmove' }>): Tree {
  const key = transformKey(step);
  if (!tree.has(step.to)) {
    throw new PublishError(
      `the folder has no ${step.to}, which ${key} (move ${step.from} to ${step.to}) makes in every version`,
      { key, hint: `add ${step.to} to the folder, or change the transform` },
    );
  }
  if (tree.has(step.from)) {
    throw new PublishError(
      `the folder has ${step.from}, which ${key} (move ${step.from} to ${step.to}) takes away from every version`,
      { key, hint: `remove ${step.from} from the folder, or change the transform` },
    );
  }
  const next: Tree = new Map();
  for (const [p, e] of tree) {
    next.set(under(p, step.to) ? join(step.from, relativeTo(p, step.to)) : p, e);
  }
  addParents(next, step.from);
  return next;
}

function uncopy(tree: Tree, step: Extract<PackStep, { kind: 'uncopy' }>): Tree {
  const key = transformKey(step);
  const what = `${key} (copy ${step.from} to ${step.to})`;
  const from = subtree(tree, step.from);
  const to = subtree(tree, step.to);
  if (to.size === 0 || from.size === 0) {
    throw new PublishError(
      `the folder has no ${to.size === 0 ? step.to : step.from}, but ${what} makes every version hold both`,
      { key, hint: `the folder must hold ${step.from} and an identical ${step.to}` },
    );
  }
  const differs = [...new Set([...from.keys(), ...to.keys()])].sort().find((rel) => {
    const a = from.get(rel);
    const b = to.get(rel);
    return !a || !b || !sameEntry(a, b);
  });
  if (differs !== undefined) {
    throw new PublishError(
      `${join(step.to, differs) || step.to} differs from ${join(step.from, differs) || step.from}, but ${what} makes them equal in every version`,
      {
        key,
        hint: `make ${step.to} a copy of ${step.from} in the folder, or change the transform`,
      },
    );
  }
  const next: Tree = new Map();
  for (const [p, e] of tree) if (!under(p, step.to)) next.set(p, e);
  return next;
}

/** The data repo's tree for a folder's tree under the inverse steps (applied in the order given). */
export function planSnapshot(folder: Tree, steps: readonly PackStep[]): Tree {
  let tree: Tree = new Map(folder);
  for (const step of steps) {
    if (step.kind === 'archive') tree = packArchive(tree, step);
    else if (step.kind === 'unmove') tree = unmove(tree, step);
    else tree = uncopy(tree, step);
  }
  return tree;
}

/** One line per entry, sorted: the snapshot as text (for golden tests and the content digest). */
export function describeTree(tree: Tree, indent = ''): string[] {
  const lines: string[] = [];
  for (const p of [...tree.keys()].sort()) {
    const e = tree.get(p)!;
    if (e.kind === 'file') lines.push(`${indent}${e.exec ? '755' : '644'} ${e.sha256} ${p}`);
    else if (e.kind === 'symlink') lines.push(`${indent}link ${p} -> ${e.target}`);
    else if (e.kind === 'dir') lines.push(`${indent}dir ${p}`);
    else {
      const s = e.step;
      lines.push(
        `${indent}archive ${p} (${s.gzip ? 'tar.gz' : 'tar'}, members under ${s.prefix.length ? s.prefix.join('/') + '/' : '(no folder)'}, extracted into ${s.into})`,
        ...describeTree(e.members, `${indent}  `),
      );
    }
  }
  return lines;
}
