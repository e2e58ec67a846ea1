// The git commands of a publish, planned: which branch data.ref names, asking the host where it
// points (data-sync's own ls-remote plan), fetching its tip (data-sync's fetch plan, deep enough to
// keep publish.keep_history commits), and the push: with a lease on the tip seen, so a publish never
// overwrites a commit it has not seen (another publisher's, or a hand-made one). Pure.
import { planFetch, planRefQueries, type RefQuery } from '../../data-sync/src/fetch-plan.js';
import { isCommitId } from '../../data-sync/src/layout.js';
import type { DataConfig } from '../recipe/schema.js';
import { PublishError } from './errors.js';

/** The branch publish pushes to: data.ref, which must name a branch. */
export function branchOf(ref: string): string {
  if (
    isCommitId(ref) ||
    ref.startsWith('refs/tags/') ||
    (ref.startsWith('refs/') && !ref.startsWith('refs/heads/'))
  ) {
    throw new PublishError(
      `data.ref is ${JSON.stringify(ref)}, not a branch: publish adds a commit to a branch`,
      {
        key: 'data.ref',
        hint: 'point data.ref at the branch the instances follow (e.g. main), or publish with --set data.ref=BRANCH',
      },
    );
  }
  return ref.replace(/^refs\/heads\//, '');
}

/** The one question to the host: where the branch points (limited to branches on its side). */
export function planTipQuery(branch: string): RefQuery {
  return planRefQueries(`refs/heads/${branch}`)![0]!;
}

/** The fetch of the tip into the cache, deep enough for the history kept (one commit when all is kept). */
export function planTipFetch(tip: string, keepHistory: number): string[] {
  return planFetch({ depth: Math.max(1, keepHistory), filter: undefined }, { commit: tip }, true);
}

/** The push of `commit` to the branch, only if the host's branch is still at `tip` (absent: none). */
export function planPush(branch: string, commit: string, tip: string | undefined): string[] {
  return [
    '-c',
    'push.followTags=false',
    '-c',
    'push.gpgSign=false',
    '-c',
    'push.recurseSubmodules=no',
    'push',
    '--porcelain',
    '--no-verify',
    `--force-with-lease=refs/heads/${branch}:${tip ?? ''}`,
    'origin',
    `${commit}:refs/heads/${branch}`,
  ];
}

/** The remote the publish pushes to: publish.repo, or data.repo. */
export function pushUrl(
  data: Pick<DataConfig, 'repo'>,
  publish: { repo?: string | undefined } | undefined,
): string {
  return publish?.repo ?? data.repo;
}
