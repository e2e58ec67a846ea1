// Submodules and Git LFS of a service checkout (service.submodules, service.lfs), done in the
// checkout's temporary folder before it is renamed into place: a checkout that exists is complete.
// Each submodule is planned as the data repo's are (data-sync/src/submodule-plan.ts: relative URLs
// resolved, URLs on the repo's host or under service.submodule_urls only, names as git checks them),
// fetched at its pinned commit (shallow where the host allows), checked out, and made a real
// submodule (.git/modules/NAME, `git submodule status` knows it). The repo's credentials go only to
// its own scheme, host and port.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  parseGitlinks,
  parseGitmodules,
  planSubmodules,
  SUBMODULE_FETCH_ENV,
  SubmoduleRefusal,
  type PlannedSubmodule,
  type SubmoduleSelection,
} from '../../data-sync/src/submodule-plan.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import { redactSecrets } from '../lib/redact.js';
import { createGit, gitFailureReason } from './git-client.js';

/** A submodule of the service checkout, as the status page shows it. */
export interface ServiceSubmodule {
  path: string;
  commit: string;
  url: string;
}

export interface SubmoduleOptions {
  /** The service repo's URL (relative submodule URLs are resolved against it). */
  repo: string;
  selection: SubmoduleSelection;
  allowed: readonly string[];
  env?: NodeJS.ProcessEnv;
  gitEnv?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

const MAX_DEPTH = 8;
const MAX_SUBMODULES = 200;

/** The git client for `dir`, with the repo's credentials only when `credentials`. */
function gitIn(dir: string, options: SubmoduleOptions, credentials: boolean) {
  return createGit({
    baseDir: dir,
    ...(options.env ? { env: options.env } : {}),
    gitEnv: { ...(credentials ? options.gitEnv : {}), ...SUBMODULE_FETCH_ENV },
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

function refused(error: SubmoduleRefusal): GitstrapError {
  return new GitstrapError(redactSecrets(error.message), {
    hint: error.hint ?? 'see service.submodules in docs/recipes.md',
    exitCode: ExitCode.failed,
  });
}

/**
 * Fetches and checks out the submodules of the checkout in `dir` (HEAD), recursively; registers
 * them as git does (`git submodule absorbgitdirs`). Returns what was placed.
 */
export async function checkoutSubmodules(
  dir: string,
  options: SubmoduleOptions,
): Promise<ServiceSubmodule[]> {
  const placed: ServiceSubmodule[] = [];
  const visit = async (repoDir: string, parentUrl: string, prefix: string, depth: number) => {
    const git = gitIn(repoDir, options, false);
    const gitlinks = parseGitlinks(await git.raw(['ls-tree', '-r', '-z', 'HEAD']));
    if (gitlinks.length === 0) return;
    let gitmodules = '';
    try {
      gitmodules = await git.raw(['config', '-z', '--list', '--blob', 'HEAD:.gitmodules']);
    } catch {
      // no .gitmodules: planSubmodules names the gitlinks it cannot place
    }
    let plan;
    try {
      plan = planSubmodules({
        gitlinks,
        gitmodules: parseGitmodules(gitmodules),
        parentUrl,
        selection: options.selection,
        allowed: options.allowed,
        prefix,
        what: prefix ? `submodule ${prefix}` : 'the service repo',
        key: 'service',
      });
    } catch (error) {
      if (error instanceof SubmoduleRefusal) throw refused(error);
      throw error;
    }
    if (plan.fetch.length && depth >= MAX_DEPTH) {
      throw new GitstrapError(
        `the service repo nests submodules deeper than ${MAX_DEPTH} levels (at ${plan.fetch[0]!.fullPath})`,
      );
    }
    for (const sub of plan.fetch) {
      if (placed.length >= MAX_SUBMODULES) {
        throw new GitstrapError(`the service repo has more than ${MAX_SUBMODULES} submodules`);
      }
      const subDir = path.join(repoDir, sub.path);
      await fetchOne(subDir, sub, options);
      placed.push({ path: sub.fullPath, commit: sub.commit, url: sub.url });
      await git.raw(['config', `submodule.${sub.name}.url`, sub.url]);
      await git.raw(['config', `submodule.${sub.name}.active`, 'true']);
      await visit(subDir, sub.url, sub.fullPath, depth + 1);
    }
  };
  await visit(dir, options.repo, '', 0);
  if (placed.length) {
    // Each submodule's .git moves to .git/modules/NAME (names checked above), as git clone lays it out.
    await gitIn(dir, options, false).raw(['submodule', 'absorbgitdirs']);
  }
  return placed;
}

/** Fetches one submodule commit into `dir` (its place in the checkout) and checks it out. */
async function fetchOne(
  dir: string,
  sub: PlannedSubmodule,
  options: SubmoduleOptions,
): Promise<void> {
  const git = gitIn(dir, options, sub.credentials);
  const where = `submodule ${sub.fullPath} (commit ${sub.commit.slice(0, 12)}) of the service repo from ${redactSecrets(sub.url)}`;
  const fail = (reason: string) =>
    new GitstrapError(`cannot fetch ${where}: ${redactSecrets(reason)}`, {
      hint: `check that the commit was pushed to that repo and that this machine can reach it (git ls-remote ${redactSecrets(sub.url)}); the service repo's credentials go to its own scheme, host and port only`,
      exitCode: ExitCode.failed,
    });
  await git.raw(['init', '-q']);
  await git.raw(['remote', 'add', 'origin', sub.url]);
  try {
    await git.raw(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', sub.commit]);
  } catch (error) {
    const reason = gitFailureReason(error);
    if (
      !/not our ref|unadvertised object|want .* not valid|Server does not allow request/i.test(
        reason,
      )
    ) {
      throw fail(reason);
    }
    // A host that serves only advertised tips: its branches and tags, then the commit among them.
    try {
      await git.raw([
        'fetch',
        '-q',
        'origin',
        '+refs/heads/*:refs/remotes/origin/*',
        '+refs/tags/*:refs/tags/*',
      ]);
      await git.raw(['cat-file', '-e', `${sub.commit}^{commit}`]);
    } catch (error2) {
      throw fail(gitFailureReason(error2));
    }
  }
  await git.raw(['checkout', '-q', '--detach', sub.commit]);
}

/** Downloads the Git LFS files of the checkout in `dir` for its commit (service.lfs). */
export async function pullLfs(
  dir: string,
  options: Pick<SubmoduleOptions, 'repo' | 'env' | 'gitEnv' | 'signal'>,
): Promise<void> {
  const git = createGit({
    baseDir: dir,
    ...(options.env ? { env: options.env } : {}),
    ...(options.gitEnv ? { gitEnv: options.gitEnv } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    await git.raw(['lfs', 'install', '--local']);
    await git.raw(['lfs', 'pull', 'origin']);
  } catch (error) {
    const reason = gitFailureReason(error);
    throw new GitstrapError(
      `cannot fetch the Git LFS files of the service repo ${redactSecrets(options.repo)}: ${redactSecrets(reason)}`,
      {
        hint: /not a git command|git-lfs/i.test(reason)
          ? 'install git-lfs (first boot installs it when the recipe sets service.lfs)'
          : 'check that the LFS objects were pushed (git lfs push --all origin) and the credentials (service.auth)',
        exitCode: ExitCode.failed,
      },
    );
  }
}

/** Where a checkout records the submodules placed in it (inside its .git: not served). */
function recordFile(dir: string): string {
  return path.join(dir, '.git', 'gitstrap-submodules.json');
}

/** Records the submodules placed in the checkout `dir`. */
export function writeSubmoduleRecord(dir: string, list: readonly ServiceSubmodule[]): void {
  writeFileSync(recordFile(dir), JSON.stringify(list, null, 2) + '\n');
}

/** The submodules placed in the checkout `dir` when it was made (none recorded: none). */
export function readSubmoduleRecord(dir: string): ServiceSubmodule[] {
  try {
    return JSON.parse(readFileSync(recordFile(dir), 'utf8')) as ServiceSubmodule[];
  } catch {
    return [];
  }
}
