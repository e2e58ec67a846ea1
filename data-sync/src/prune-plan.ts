// Which versions to keep, which folder to recycle for the next build, which to delete, and where a
// rollback goes. Pure: it reads a description of the folder and returns a plan.
import type { Journal } from './journal.js';

export interface VersionsView {
  /** Version folders present in versions/. */
  versions: readonly string[];
  /** The commit served now. */
  current: string | undefined;
  journal: Journal;
  /** Previous versions to keep for rollback. */
  keep: number;
  /** Whether staging/ already holds a folder to build the next version in. */
  spareExists: boolean;
}

export interface PrunePlan {
  /** Stay in versions/: the current one and `keep` previous ones. */
  keep: string[];
  /** Moves to staging/ as the folder the next version is built in (its files are reused). */
  recycle: string | undefined;
  /** Deleted. */
  remove: string[];
}

/** Version folders, most recently published first; folders the journal does not know come last. */
export function rankVersions(versions: readonly string[], journal: Journal): string[] {
  const order = new Map(journal.published.map((e, i) => [e.commit, i]));
  return [...versions].sort((a, b) => {
    const ra = order.get(a) ?? -1;
    const rb = order.get(b) ?? -1;
    return rb - ra || a.localeCompare(b);
  });
}

/** Keeps the served version and `keep` previous ones; recycles the newest of the rest, deletes the others. */
export function planPrune(view: VersionsView): PrunePlan {
  const ranked = rankVersions(view.versions, view.journal).filter((v) => v !== view.current);
  const kept = ranked.slice(0, view.keep);
  const idle = ranked.slice(view.keep);
  const recycle = view.spareExists ? undefined : idle[0];
  return {
    keep: [
      ...(view.current && view.versions.includes(view.current) ? [view.current] : []),
      ...kept,
    ],
    recycle,
    remove: idle.filter((v) => v !== recycle),
  };
}

/**
 * Where `rollback` points `current`: the version published before the current one that is still
 * kept and was not itself rolled back from. Undefined when there is none.
 */
export function planRollback(
  view: Pick<VersionsView, 'versions' | 'current' | 'journal'>,
): string | undefined {
  const entries = view.journal.published;
  const at = view.current ? entries.map((e) => e.commit).lastIndexOf(view.current) : -1;
  const before = at === -1 ? entries : entries.slice(0, at);
  for (let i = before.length - 1; i >= 0; i--) {
    const entry = before[i]!;
    if (entry.commit === view.current || entry.rolledBack) continue;
    if (view.versions.includes(entry.commit)) return entry.commit;
  }
  return undefined;
}
