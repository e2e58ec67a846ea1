// Keeping the data branch short (publish.keep_history): when a publish would leave more than K
// commits on it, the K-1 newest are re-created on a new root (same trees, messages, authors,
// committers and dates) and the new commit goes on top. Re-creating is deterministic: the same
// commits give the same new SHAs, so a publish that failed after the rewrite redoes the same one.
// Pure: parsing commit objects and planning the `git commit-tree` calls; git runs elsewhere.

/** A commit, as `git cat-file commit` prints it. */
export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  /** "Name <email> 1700000000 +0000" */
  author: string;
  committer: string;
  message: string;
}

/** Parses the raw text of a commit object (headers, a blank line, the message). */
export function parseCommit(sha: string, raw: string): CommitInfo {
  const end = raw.indexOf('\n\n');
  const head = end >= 0 ? raw.slice(0, end) : raw;
  const message = end >= 0 ? raw.slice(end + 2) : '';
  const info: CommitInfo = { sha, tree: '', parents: [], author: '', committer: '', message };
  for (const line of head.split('\n')) {
    if (line.startsWith(' ')) continue; // a continuation (gpgsig, mergetag): not carried over
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === 'tree') info.tree = value;
    else if (key === 'parent') info.parents.push(value);
    else if (key === 'author') info.author = value;
    else if (key === 'committer') info.committer = value;
  }
  return info;
}

/** Splits "Name <email> 1700000000 +0000" into git's environment variables for one role. */
export function identityEnv(role: 'AUTHOR' | 'COMMITTER', ident: string): Record<string, string> {
  const match = /^(.*?) ?<([^>]*)> (\d+ [+-]\d{4})$/.exec(ident);
  if (!match) return {};
  return {
    [`GIT_${role}_NAME`]: match[1]!,
    [`GIT_${role}_EMAIL`]: match[2]!,
    [`GIT_${role}_DATE`]: match[3]!,
  };
}

/** One `git commit-tree` to run: its arguments (PARENT stands for the commit made just before). */
export interface RecreateStep {
  original: string;
  args: string[];
  env: Record<string, string>;
  message: string;
}

/** What a publish does with the history under its new commit. */
export interface HistoryPlan {
  /** Commits re-created on a new root, oldest first; empty when nothing is trimmed. */
  recreate: RecreateStep[];
  /** Whether the new commit goes on the old tip (true) or on the re-created chain / a new root. */
  onTip: boolean;
  /** How many commits the branch will hold after the publish, when known (trimmed); else undefined. */
  kept?: number;
  /** Commits dropped from the branch (trimmed). */
  dropped?: number;
}

/**
 * Plans the history for a new commit on `chain` (the branch's commits, newest first, as far as the
 * cache has them: at least keepHistory when the branch is that long). `complete` says the chain
 * reaches the branch's first commit (the cache is not cut short there).
 */
export function planHistory(
  chain: readonly CommitInfo[],
  keepHistory: number,
  complete: boolean,
): HistoryPlan {
  if (keepHistory === 0 || chain.length === 0) return { recreate: [], onTip: chain.length > 0 };
  // The branch after the publish: the new commit and the chain under it.
  const longer = chain.length + 1 > keepHistory || (!complete && chain.length >= keepHistory);
  if (!longer) return { recreate: [], onTip: true };
  const kept = chain.slice(0, keepHistory - 1).reverse(); // oldest first
  const recreate = kept.map((c, i) => ({
    original: c.sha,
    args: ['commit-tree', c.tree, ...(i > 0 ? ['-p', 'PARENT'] : []), '-F', '-'],
    env: { ...identityEnv('AUTHOR', c.author), ...identityEnv('COMMITTER', c.committer) },
    message: c.message,
  }));
  return {
    recreate,
    onTip: false,
    kept: keepHistory,
    ...(complete ? { dropped: chain.length + 1 - keepHistory } : {}),
  };
}
