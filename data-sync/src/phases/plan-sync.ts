// Phase "plan": what a sync does with the commit the source names, decided without doing. Pure.
import type { Journal } from '../journal.js';

/**
 * unchanged: it is served already; held: a rollback set it aside, wait for a newer one; republish: a
 * kept version folder has it, point `current` back at it; build: fetch and build it.
 */
export type SyncDecision = 'unchanged' | 'held' | 'republish' | 'build';

/** What the decision is made from. */
export interface SyncPlanInput {
  /** The commit the source names now. */
  commit: string;
  /** The commit served before this sync. */
  previous: string | undefined;
  /** The commit a rollback holds back (the journal's `held`). */
  held: string | undefined;
  /** Whether versions/COMMIT exists (a kept version). */
  kept: boolean;
}

/** What to do with `input.commit`. */
export function planSync(input: SyncPlanInput): SyncDecision {
  if (input.commit === input.previous) return 'unchanged';
  if (input.held === input.commit) return 'held';
  return input.kept ? 'republish' : 'build';
}

/** The result's note for a sync that published nothing, when it is not simply "same commit". */
export function unchangedNote(decision: 'unchanged' | 'held', commit: string): string | undefined {
  return decision === 'held'
    ? `held: ${commit.slice(0, 12)} was rolled back; waiting for a new commit`
    : undefined;
}

/** The journal once the source moved on from a held commit (the hold is over); else undefined. */
export function endedHold(journal: Journal, commit: string): Journal | undefined {
  return journal.held && journal.held !== commit ? { published: journal.published } : undefined;
}
