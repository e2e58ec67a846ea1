// The members of one archive with their times. A member whose content is what the archive already in
// the data repo holds under the same name keeps that member's time; a new or changed one gets the
// time of this publish; a folder gets the newest time beneath it (an empty one keeps its time, or
// gets the publish's). So the same folder over the same archive gives the same bytes (nothing to
// publish), and a changed file gets a new time (servers that answer If-Modified-Since or make
// ETags from size and time never serve a stale copy). Pure.
import type { ArchiveIndex } from './archive-index.js';
import type { Entry, FileEntry, Tree } from './snapshot-plan.js';

/** One member of the archive to write. */
export interface PlannedMember {
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  mtime: number;
  exec?: boolean;
  target?: string;
  /** For files: where the bytes are. */
  file?: FileEntry;
}

/**
 * The members, sorted by name (a folder before what it holds), for archive `members` (by path
 * relative to the extract's into) under the folders `prefix`.
 */
export function planMembers(
  members: Tree,
  prefix: readonly string[],
  previous: ArchiveIndex,
  now: number,
): PlannedMember[] {
  const out = new Map<string, PlannedMember>();
  const base = prefix.join('/');
  const nameOf = (rel: string) => (base ? `${base}/${rel}` : rel);
  for (let i = 1; i <= prefix.length; i++) {
    const name = prefix.slice(0, i).join('/');
    out.set(name, { name, kind: 'dir', mtime: -1 });
  }
  for (const [rel, entry] of members) {
    const name = nameOf(rel);
    out.set(name, plan(name, entry, previous, now));
  }
  // Folders: the newest time beneath them. Deepest names first, so each folder is settled before
  // its own folder takes its time into account.
  const names = [...out.keys()].sort();
  const depth = (n: string) => n.split('/').length;
  const newest = new Map<string, number>();
  for (const name of [...names].sort((a, b) => depth(b) - depth(a))) {
    const m = out.get(name)!;
    if (m.kind === 'dir') {
      const below = newest.get(name);
      const prev = previous.get(name);
      m.mtime = below ?? (prev?.kind === 'dir' ? prev.mtime : now);
    }
    const slash = name.lastIndexOf('/');
    if (slash > 0) {
      const parent = name.slice(0, slash);
      newest.set(parent, Math.max(newest.get(parent) ?? -1, m.mtime));
    }
  }
  return names.map((n) => out.get(n)!);
}

function plan(name: string, entry: Entry, previous: ArchiveIndex, now: number): PlannedMember {
  const prev = previous.get(name);
  if (entry.kind === 'file') {
    const same = prev?.kind === 'file' && prev.sha256 === entry.sha256 && prev.exec === entry.exec;
    return { name, kind: 'file', exec: entry.exec, file: entry, mtime: same ? prev.mtime : now };
  }
  if (entry.kind === 'symlink') {
    const same = prev?.kind === 'symlink' && prev.target === entry.target;
    return { name, kind: 'symlink', target: entry.target, mtime: same ? prev.mtime : now };
  }
  if (entry.kind === 'dir') return { name, kind: 'dir', mtime: -1 };
  throw new Error(`${name}: an archive inside an archive must be built before its outer one`);
}
