// One publish: the folder, packed as the recipe's transforms expect it, committed on top of the data
// branch (or of its kept history) and pushed with a lease. In order: lock, read the folder, ask the
// host for the branch tip, stop if the tip already holds this content, fetch the tip (deep enough for
// the history kept), build and verify the version (build.ts), write the tree, commit, push, record.
// The host's branch moves only by the push (git updates a ref all at once): an interrupted publish
// leaves the instances on the version they had. See docs/fleet.md.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseLsRemote } from '../../data-sync/src/fetch-plan.js';
import { resolveLimits } from '../../data-sync/src/limits.js';
import { planVerify, writeAllowedSigners } from '../../data-sync/src/verify.js';
import { execCommand, type Exec } from '../../data-sync/src/exec.js';
import type { Logger } from '../lib/log.js';
import { redactSecrets } from '../lib/redact.js';
import type { Recipe } from '../recipe/schema.js';
import { indexArchive, type ArchiveIndex } from './archive-index.js';
import { buildRepoTree, verifyRoundTrip, type RepoTree } from './build.js';
import { PublishError, publishFailure } from './errors.js';
import { createPublishGit, describeGitExit, gitErrorLines, type PublishGit } from './git-runner.js';
import { branchOf, planPush, planTipFetch, planTipQuery, pushUrl } from './git-plan.js';
import { parseCommit, planHistory, type CommitInfo } from './history-plan.js';
import { acquirePublishLock } from './lock.js';
import { updateMirror, type MirrorResult } from './mirror.js';
import { planPacking } from './packing-plan.js';
import { scanFolder } from './scan.js';
import { describeTree, planSnapshot } from './snapshot-plan.js';

/** The trailer that names the content of a published snapshot (a digest of its plan). */
export const SNAPSHOT_TRAILER = 'Gitstrap-Snapshot';

/** The files of the publisher's state folder (ROOT/publish). */
export function publishLayout(stateDir: string) {
  const dir = path.resolve(stateDir);
  return {
    dir,
    repo: path.join(dir, 'repo.git'),
    lock: path.join(dir, 'publish.lock'),
    index: path.join(dir, 'snapshot.index'),
    blobs: path.join(dir, 'blobs'),
    scratch: path.join(dir, 'scratch'),
    mirrorScratch: path.join(dir, 'mirror.git'),
    last: path.join(dir, 'last.json'),
  };
}

export interface PublishOptions {
  /** The publisher's state folder (ROOT/publish): its cache, lock and last result. */
  stateDir: string;
  recipe: Pick<Recipe, 'name' | 'data' | 'publish'>;
  /** The folder to publish (absolute). */
  from: string;
  message?: string;
  logger: Logger;
  signal?: AbortSignal;
  now?: () => Date;
  gitTimeoutMs?: number;
}

export interface PublishResult {
  outcome: 'published' | 'unchanged';
  branch: string;
  /** The commit the branch points at now. */
  commit: string;
  previous?: string;
  /** Files and links in the folder. */
  entries: number;
  /** Archives written (path, bytes, members). */
  archives: Array<{ path: string; bytes: number; members: number }>;
  /** When history was trimmed: commits the branch keeps, and how many it dropped (when known). */
  trimmed?: { kept: number; dropped?: number };
  /** Checks that run on the instances only. */
  skippedChecks: string[];
  /** With publish.mirror: what was written there. */
  mirror?: MirrorResult;
  durationMs: number;
}

/** Publishes `from` to the recipe's data repo once. */
export async function publishFolder(options: PublishOptions): Promise<PublishResult> {
  const t0 = performance.now();
  const now = options.now ?? (() => new Date());
  const data = options.recipe.data;
  if (!data) {
    throw new PublishError(
      'the recipe has no data section, so there is no data repo to publish to',
      {
        key: 'data',
        hint: 'add data: {repo: ..., mount: ...} to the recipe (see recipes/open-qa.yaml)',
      },
    );
  }
  const keepHistory = options.recipe.publish?.keep_history ?? 0;
  const steps = planPacking(data);
  const branch = branchOf(data.ref);
  const layout = publishLayout(options.stateDir);
  mkdirSync(layout.dir, { recursive: true });
  const lock = await acquirePublishLock(layout.lock, {
    now,
    onTakeOver: (stale, killed) =>
      options.logger.log('warn', 'publish.lock.stale', {
        pid: stale?.pid ?? 0,
        since: stale?.since,
        killed,
      }),
  });
  try {
    cleanLeftovers(layout);
    const git = createPublishGit({
      repo: layout.repo,
      ...(options.signal ? { signal: options.signal } : {}),
      onSpawn: (pid) => lock.trackChild(pid),
      onExit: (pid) => lock.untrackChild(pid),
      defaultTimeoutMs: options.gitTimeoutMs ?? 30 * 60_000,
    });
    await ensureCache(git, layout.repo, pushUrl(data, options.recipe.publish));
    const remote = redactSecrets(pushUrl(data, options.recipe.publish));
    const mirrorDir = options.recipe.publish?.mirror;
    /** The static mirror of `commit` (publish.mirror), after the branch holds it. */
    const mirror = async (commit: string): Promise<{ mirror?: MirrorResult }> => {
      if (!mirrorDir) return {};
      try {
        return {
          mirror: await updateMirror(git, {
            dir: mirrorDir,
            cache: layout.repo,
            scratch: layout.mirrorScratch,
            branch,
            commit,
            now: now(),
          }),
        };
      } catch (error) {
        const message = redactSecrets((error as Error).message);
        throw publishFailure(
          `${branch} holds ${commit.slice(0, 12)}, but its mirror in ${mirrorDir} (publish.mirror) was not written: ${message}`,
          'fix that and run publish again: it writes the mirror of the commit the branch holds (the instances reading the mirror keep the previous version meanwhile)',
        );
      }
    };

    const folder = await scanFolder(options.from);
    const entries = [...folder.values()].filter((e) => e.kind !== 'dir').length;
    if (entries === 0) {
      throw new PublishError(
        `${options.from} holds no files: publishing it would empty the data on every instance`,
        {
          hint: 'check --from (the results may not be written yet); nothing was pushed',
        },
      );
    }
    const snapshot = planSnapshot(folder, steps);
    const digest = `sha256:${createHash('sha256').update(describeTree(snapshot).join('\n')).digest('hex')}`;

    // Where the branch is now, and what it holds.
    const tip = await askTip(git, branch, remote);
    const chain = tip ? await readChain(git, tip, keepHistory) : { commits: [], complete: true };
    const tipCommit = chain.commits[0];
    const base = { branch, entries, skippedChecks: [] as string[] };
    if (tipCommit && trailer(tipCommit.message) === digest) {
      return finish(layout, {
        ...base,
        outcome: 'unchanged',
        commit: tip!,
        previous: tip!,
        archives: [],
        ...(await mirror(tip!)),
        durationMs: ms(t0),
      });
    }

    // The version: archives (times carried over from the tip's archives), checked by a round trip.
    const stamp = Math.floor(now().getTime() / 1000);
    const limits = resolveLimits(data.limits);
    const previousArchive = async (archive: string): Promise<ArchiveIndex> => {
      if (!tip) return new Map();
      const blob = await git.run(['cat-file', 'blob', `${tip}:${archive}`]);
      return blob.code === 0 ? indexArchive(blob.stdout, limits.maxBytes) : new Map();
    };
    const tree = await buildRepoTree(snapshot, previousArchive, stamp);
    const exec: Exec = (argv, o = {}) =>
      execCommand(argv, {
        ...o,
        onSpawn: (pid) => lock.trackChild(pid),
        onExit: (pid) => lock.untrackChild(pid),
      });
    const skippedChecks = await verifyRoundTrip({
      data,
      tree,
      folder,
      folderDir: options.from,
      scratch: layout.scratch,
      state: path.dirname(layout.dir),
      exec,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const archives = [...tree]
      .flatMap(([p, e]) =>
        e.kind === 'file' && e.data
          ? [{ path: p, bytes: e.data.length, members: e.archive.members }]
          : [],
      )
      .sort((a, b) => a.path.localeCompare(b.path));

    const treeSha = await writeTree(git, layout, tree);
    if (tipCommit && tipCommit.tree === treeSha) {
      return finish(layout, {
        ...base,
        skippedChecks,
        outcome: 'unchanged',
        commit: tip!,
        previous: tip!,
        archives,
        ...(await mirror(tip!)),
        durationMs: ms(t0),
      });
    }

    // The commit, on the tip or on the kept history re-created under a new root.
    const history = planHistory(chain.commits, keepHistory, chain.complete);
    const identity = await defaultIdentity(git);
    let parent: string | undefined = history.onTip ? tip : undefined;
    for (const step of history.recreate) {
      const args = step.args.map((a) => (a === 'PARENT' ? parent! : a));
      parent = await git.text(args, { input: step.message, env: { ...identity, ...step.env } });
    }
    const message = `${(options.message ?? `Publish ${path.basename(options.from)} at ${now().toISOString()}`).trim()}\n\n${SNAPSHOT_TRAILER}: ${digest}\n`;
    const commit = await git.text(
      [
        'commit-tree',
        treeSha,
        ...(parent ? ['-p', parent] : []),
        ...(data.verify ? ['-S'] : []),
        '-F',
        '-',
      ],
      {
        input: message,
        env: identity,
        ...(data.verify
          ? {
              hint: "data.verify is set, so publish signs its commit: configure git's signing on this machine (git config --global gpg.format ssh; git config --global user.signingkey ~/.ssh/KEY.pub), with a key the recipe allows",
            }
          : {}),
      },
    );

    if (data.verify) {
      // The instances publish only commits their allowed signers signed: check it as they will.
      const signers = path.join(layout.dir, 'allowed_signers');
      writeAllowedSigners(signers, data.verify.allowed_signers);
      const verified = await git.run(planVerify(commit, signers));
      if (verified.code !== 0) {
        throw new PublishError(
          `the commit is not signed by a key in data.verify.allowed_signers, so the instances would refuse it: ${gitErrorLines(verified.stderr, 2).join('; ')}`,
          {
            key: 'data.verify.allowed_signers',
            hint: "sign with a listed key (git config user.signingkey), or add this machine's key to the recipe; nothing was pushed",
          },
        );
      }
    }
    await push(git, branch, commit, tip, remote);
    await git.run(['update-ref', 'refs/gitstrap/fetched', commit]);
    const mirrored = await mirror(commit);
    await git.run(['-c', 'gc.autoDetach=false', 'gc', '--auto', '--quiet']);
    return finish(layout, {
      ...mirrored,
      ...base,
      skippedChecks,
      outcome: 'published',
      commit,
      ...(tip ? { previous: tip } : {}),
      archives,
      ...(history.kept !== undefined
        ? {
            trimmed: {
              kept: history.kept,
              ...(history.dropped !== undefined ? { dropped: history.dropped } : {}),
            },
          }
        : {}),
      durationMs: ms(t0),
    });
  } finally {
    rmSync(layout.index, { force: true });
    rmSync(layout.blobs, { recursive: true, force: true });
    lock.release();
  }
}

const ms = (t0: number) => Math.round(performance.now() - t0);

/** Removes what a killed publish left: temporary index and blobs, the scratch version, git locks. */
function cleanLeftovers(layout: ReturnType<typeof publishLayout>): void {
  for (const file of [layout.index, `${layout.index}.lock`]) rmSync(file, { force: true });
  rmSync(layout.blobs, { recursive: true, force: true });
  rmSync(layout.scratch, { recursive: true, force: true });
  rmSync(layout.mirrorScratch, { recursive: true, force: true });
  if (!existsSync(layout.repo)) return;
  // Under the publish lock no git of ours runs here: any *.lock is a dead process's.
  const sweep = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      if (name.endsWith('.lock')) rmSync(full, { recursive: true, force: true });
      else if (dir.startsWith(path.join(layout.repo, 'refs')) || name === 'refs') sweep(full);
    }
  };
  sweep(layout.repo);
}

/** Creates the bare cache (atomically) and points its origin at the push URL. */
async function ensureCache(git: PublishGit, repo: string, url: string): Promise<void> {
  if (!existsSync(path.join(repo, 'HEAD'))) {
    const tmp = `${repo}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    await git.ok(['init', '--bare', '--quiet', tmp], { env: { GIT_DIR: tmp } });
    renameSync(tmp, repo);
  }
  const current = await git.run(['config', '--get', 'remote.origin.url']);
  if (current.stdout.toString().trim() !== url) await git.ok(['config', 'remote.origin.url', url]);
}

const PUSH_HINT =
  'check publish.repo (or data.repo), that this machine can reach it, and that its git credentials (ssh key, credential helper) may push there';

async function askTip(
  git: PublishGit,
  branch: string,
  remote: string,
): Promise<string | undefined> {
  const query = planTipQuery(branch);
  const result = await git.run(query.args);
  if (result.code !== 0) {
    const why = gitErrorLines(result.stderr, 3).join('; ');
    throw publishFailure(
      `cannot ask ${remote} where ${branch} points (${describeGitExit(result, 0)})${why ? `: ${why}` : ''}`,
      PUSH_HINT,
    );
  }
  return parseLsRemote(result.stdout.toString(), query.ref)?.commit;
}

/** The branch's newest commits the cache has (fetching the tip, deep enough, when needed). */
async function readChain(
  git: PublishGit,
  tip: string,
  keepHistory: number,
): Promise<{ commits: CommitInfo[]; complete: boolean }> {
  const depth = Math.max(1, keepHistory);
  const read = async () => {
    const list = await git.run(['rev-list', `--max-count=${depth}`, tip]);
    if (list.code !== 0) return undefined;
    const shas = list.stdout.toString().split('\n').filter(Boolean);
    const raw = await git.ok(['cat-file', '--batch'], { input: shas.join('\n') + '\n' });
    const commits = parseBatch(raw);
    const oldest = commits.at(-1);
    return {
      commits,
      complete: commits.length < depth && oldest !== undefined && oldest.parents.length === 0,
    };
  };
  let chain = await read();
  // Missing, or cut short by an earlier shallow fetch while the branch goes on: fetch it.
  if (!chain || (chain.commits.length < depth && !chain.complete)) {
    await git.ok(planTipFetch(tip, keepHistory), { hint: PUSH_HINT });
    chain = await read();
  }
  if (!chain) throw publishFailure(`the cache does not hold ${tip} after fetching it`, 'run again');
  return chain;
}

/** Parses `git cat-file --batch` output of commits. */
function parseBatch(raw: Buffer): CommitInfo[] {
  const commits: CommitInfo[] = [];
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf(0x0a, at);
    const [sha, type, size] = raw.subarray(at, eol).toString().split(' ');
    const length = Number(size);
    if (type === 'commit')
      commits.push(parseCommit(sha!, raw.subarray(eol + 1, eol + 1 + length).toString()));
    at = eol + 1 + (Number.isFinite(length) ? length + 1 : 0);
  }
  return commits;
}

/** The value of the snapshot trailer in a commit message, if any. */
export function trailer(message: string): string | undefined {
  const match = new RegExp(`^${SNAPSHOT_TRAILER}: (\\S+)$`, 'm').exec(message);
  return match?.[1];
}

/** Writes every blob and the tree; returns the tree's SHA. */
async function writeTree(
  git: PublishGit,
  layout: ReturnType<typeof publishLayout>,
  tree: RepoTree,
): Promise<string> {
  // Bytes made here (archives, link targets) go through files, so one hash-object writes them all.
  mkdirSync(layout.blobs, { recursive: true });
  const paths = [...tree.keys()].sort();
  const sources = paths.map((p, i) => {
    const e = tree.get(p)!;
    if (e.kind === 'file' && !e.data) return e.source;
    const file = path.join(layout.blobs, String(i));
    writeFileSync(file, e.kind === 'symlink' ? e.target : e.data);
    return file;
  });
  const bad = sources.find((s) => s.includes('\n'));
  if (bad)
    throw new PublishError(`${bad}: a file name with a line break cannot be published`, {
      hint: 'rename it',
    });
  const shas = (
    await git.text(['hash-object', '-w', '--no-filters', '--stdin-paths'], {
      input: sources.join('\n') + '\n',
    })
  )
    .split('\n')
    .filter(Boolean);
  const lines = paths.map((p, i) => {
    const e = tree.get(p)!;
    const mode = e.kind === 'symlink' ? '120000' : e.exec ? '100755' : '100644';
    return `${mode} ${shas[i]}\t${p}\0`;
  });
  const env = { GIT_INDEX_FILE: layout.index };
  rmSync(layout.index, { force: true });
  await git.ok(['update-index', '--add', '-z', '--index-info'], { input: lines.join(''), env });
  return git.text(['write-tree'], { env });
}

/** Who commits, when git has no identity configured on this machine. */
async function defaultIdentity(git: PublishGit): Promise<Record<string, string>> {
  const configured = await git.run(['config', 'user.email']);
  if (configured.code === 0 || process.env.GIT_COMMITTER_EMAIL || process.env.EMAIL) return {};
  const email = `gitstrap-publish@${os.hostname() || 'localhost'}`;
  return {
    GIT_AUTHOR_NAME: 'gitstrap publish',
    GIT_AUTHOR_EMAIL: email,
    GIT_COMMITTER_NAME: 'gitstrap publish',
    GIT_COMMITTER_EMAIL: email,
  };
}

async function push(
  git: PublishGit,
  branch: string,
  commit: string,
  tip: string | undefined,
  remote: string,
): Promise<void> {
  const result = await git.run(planPush(branch, commit, tip));
  if (result.code === 0) return;
  const text = `${result.stdout.toString()}\n${result.stderr}`;
  if (result.aborted) {
    throw publishFailure(
      `interrupted while pushing to ${remote}`,
      `the branch holds the new commit or the old one, never a mix; run again to be sure (it publishes nothing if ${commit.slice(0, 12)} arrived)`,
    );
  }
  if (/stale info|fetch first|non-fast-forward|\[rejected\]/.test(text)) {
    throw publishFailure(
      `${remote} ${branch} moved while publishing (it is no longer at ${tip ? tip.slice(0, 12) : 'nothing'}): another publisher pushed; nothing was overwritten`,
      'run again: the next publish builds on what is there now',
    );
  }
  const why = gitErrorLines(result.stderr).join('; ');
  throw publishFailure(
    `git push to ${remote} failed (${describeGitExit(result, 0)})${why ? `: ${why}` : ''}`,
    PUSH_HINT,
  );
}

/** Records the result (last.json, for monitoring) and returns it. */
function finish(layout: ReturnType<typeof publishLayout>, result: PublishResult): PublishResult {
  try {
    writeFileSync(
      `${layout.last}.tmp`,
      JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2) + '\n',
    );
    renameSync(`${layout.last}.tmp`, layout.last);
  } catch {
    // monitoring only
  }
  return result;
}
