// The publish journal (journal.json): the order versions were published in, which were rolled back
// from, and the commit a rollback holds off. Written atomically (temp file + rename). The `current`
// symlink stays the truth for what is served; the journal only orders the versions.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DataLayout } from './layout.js';
import { isCommitId } from './layout.js';

/** One publish: a commit and when it went live. */
export interface JournalEntry {
  commit: string;
  at: string;
  /** Set when an operator rolled back from this version: it is no rollback target. */
  rolledBack?: boolean;
}

export interface Journal {
  /** Oldest first; one entry per commit (its latest publish). */
  published: JournalEntry[];
  /** A commit a rollback moved away from: not published again until the remote moves on. */
  held?: string;
}

const MAX_ENTRIES = 200;

/** Reads the journal; a missing or damaged one reads as empty (it only orders versions). */
export function readJournal(layout: DataLayout): Journal {
  try {
    const raw = JSON.parse(readFileSync(layout.journal, 'utf8')) as Partial<Journal>;
    const published = Array.isArray(raw.published)
      ? raw.published.filter(
          (e): e is JournalEntry =>
            typeof e === 'object' && e !== null && isCommitId(String(e.commit)),
        )
      : [];
    return {
      published,
      ...(typeof raw.held === 'string' && isCommitId(raw.held) ? { held: raw.held } : {}),
    };
  } catch {
    return { published: [] };
  }
}

/** Writes the journal atomically. */
export function writeJournal(layout: DataLayout, journal: Journal): void {
  const tmp = `${layout.journal}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(journal, null, 2) + '\n');
  renameSync(tmp, layout.journal);
}

/** The journal after publishing `commit` (moved to the end; a hold is released). Pure. */
export function withPublish(journal: Journal, commit: string, at: string): Journal {
  const published = journal.published.filter((e) => e.commit !== commit);
  published.push({ commit, at });
  return { published: published.slice(-MAX_ENTRIES) };
}

/** The journal after rolling back from `from` to `to`. Pure. */
export function withRollback(journal: Journal, from: string, to: string, at: string): Journal {
  const published = journal.published.map((e) =>
    e.commit === from ? { ...e, rolledBack: true } : e,
  );
  if (!published.some((e) => e.commit === to)) published.unshift({ commit: to, at });
  return { published, held: from };
}

/** The journal with `current` recorded if a crash lost its entry (after the swap, before the write). */
export function withCurrent(journal: Journal, current: string | undefined, at: string): Journal {
  if (!current || journal.published.some((e) => e.commit === current)) return journal;
  return { ...journal, published: [...journal.published, { commit: current, at }] };
}
