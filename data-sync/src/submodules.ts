// Submodules of a data version (data.submodules): every submodule the commit pins (and theirs,
// recursively) is fetched into the cache at its pinned commit, then one tree is composed in which
// each gitlink is replaced by its submodule's tree. That tree is checked out like any commit: the
// sparse patterns, the reused folder and the index outside it apply to submodule files too, and a
// version holds no .git. A submodule that cannot be fetched fails the sync: nothing is published.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DataConfig } from '../../src/recipe/schema.js';
import type { VersionSubmodule } from './api.js';
import { lastLines, redactCredentials, SyncFailure } from './failure.js';
import { describeExit } from './exec.js';
import type { Git } from './git.js';
import type { DataLayout } from './layout.js';
import {
  parseGitlinks,
  parseGitmodules,
  planSubmoduleFetch,
  planSubmodules,
  SUBMODULE_FETCH_ENV,
  SubmoduleRefusal,
  submoduleRef,
  type PlannedSubmodule,
} from './submodule-plan.js';

/** The tree to check out for a commit, and the submodules placed in it. */
export interface ComposedVersion {
  /** A commit (no submodules placed) or the composed tree's id. */
  treeish: string;
  submodules: VersionSubmodule[];
}

/** Nesting and count bounds: a data repo cannot make one sync fetch without end. */
const MAX_DEPTH = 8;
const MAX_SUBMODULES = 200;

const HINT =
  "check that the submodule commit was pushed to its repo, that this machine can reach that repo, and its credentials (the data repo's own go to the same scheme, host and port only)";

interface Node {
  sub: PlannedSubmodule;
  children: Node[];
}

/** Fetches the submodules of `commit` that data.submodules selects and composes the version's tree. */
export async function composeVersion(
  git: Git,
  layout: DataLayout,
  data: DataConfig,
  commit: string,
): Promise<ComposedVersion> {
  if (!data.submodules) return { treeish: commit, submodules: [] };
  let count = 0;
  const plan = async (
    repoCommit: string,
    parentUrl: string,
    prefix: string,
    depth: number,
  ): Promise<Node[]> => {
    const what = prefix ? `submodule ${prefix}` : 'the data repo';
    const listing = await git.ok('submodules', ['ls-tree', '-r', '-z', '--full-tree', repoCommit]);
    const gitlinks = parseGitlinks(listing);
    if (gitlinks.length === 0) return [];
    const config = await git.run(['config', '-z', '--list', '--blob', `${repoCommit}:.gitmodules`]);
    let planned;
    try {
      planned = planSubmodules({
        gitlinks,
        gitmodules: config.code === 0 ? parseGitmodules(config.stdout) : [],
        parentUrl,
        selection: data.submodules,
        allowed: data.submodule_urls ?? [],
        sparse: data.sparse,
        prefix,
        what,
        key: 'data',
      });
    } catch (error) {
      if (error instanceof SubmoduleRefusal) {
        throw new SyncFailure('submodules', redactCredentials(error.message), error.hint);
      }
      throw error;
    }
    if (planned.fetch.length && depth >= MAX_DEPTH) {
      throw new SyncFailure(
        'submodules',
        `${what} nests submodules deeper than ${MAX_DEPTH} levels; not fetching ${planned.fetch[0]!.fullPath}`,
      );
    }
    const nodes: Node[] = [];
    for (const sub of planned.fetch) {
      if (++count > MAX_SUBMODULES) {
        throw new SyncFailure(
          'submodules',
          `the data repo has more than ${MAX_SUBMODULES} submodules; not fetching ${sub.fullPath}`,
        );
      }
      await fetchSubmodule(git, data, sub);
      nodes.push({ sub, children: await plan(sub.commit, sub.url, sub.fullPath, depth + 1) });
    }
    return nodes;
  };
  const nodes = await plan(commit, data.repo, '', 0);
  await dropStaleRefs(git, nodes);
  const submodules: VersionSubmodule[] = [];
  const walk = (list: Node[]) =>
    list.forEach((n) => {
      submodules.push({ path: n.sub.fullPath, commit: n.sub.commit, url: n.sub.url });
      walk(n.children);
    });
  walk(nodes);
  if (nodes.length === 0) return { treeish: commit, submodules };
  mkdirSync(layout.staging, { recursive: true });
  return { treeish: await composeTree(git, layout, commit, nodes), submodules };
}

/** The ref that keeps a submodule's commit: named by its place in the version. */
function refFor(sub: PlannedSubmodule): string {
  return submoduleRef(createHash('sha1').update(sub.fullPath).digest('hex').slice(0, 16));
}

/** Brings one submodule commit into the cache (no network when it is there already). */
async function fetchSubmodule(git: Git, data: DataConfig, sub: PlannedSubmodule): Promise<void> {
  const ref = refFor(sub);
  const have = await git.run(['cat-file', '-e', `${sub.commit}^{commit}`]);
  if (have.code !== 0) {
    const options = { env: SUBMODULE_FETCH_ENV, withoutCredentials: !sub.credentials };
    const depth = data.depth > 0 ? 1 : 0;
    const first = await git.run(planSubmoduleFetch(sub.url, sub.commit, ref, depth), options);
    if (first.code !== 0) {
      const refused =
        /not our ref|unadvertised object|couldn't find remote ref|want .* not valid|Server does not allow request/i.test(
          first.stderr,
        );
      const scan = refused
        ? await git.run(planSubmoduleFetch(sub.url, sub.commit, ref, depth, true), options)
        : first;
      const found =
        scan.code === 0 && (await git.run(['cat-file', '-e', `${sub.commit}^{commit}`])).code === 0;
      await dropRefs(git, `${ref}-scan/`);
      if (!found) {
        const why = lastLines(redactCredentials(scan.stderr), 3).join('; ');
        throw new SyncFailure(
          'submodules',
          scan.code === 0
            ? `submodule ${sub.fullPath}: commit ${sub.commit} is not in ${redactCredentials(sub.url)} (no branch or tag reaches it)`
            : `cannot fetch submodule ${sub.fullPath} (commit ${sub.commit.slice(0, 12)}) from ${redactCredentials(sub.url)}: git fetch failed (${describeExit(scan)})${why ? `: ${why}` : ''}`,
          HINT,
        );
      }
    }
  }
  await git.ok('submodules', ['update-ref', ref, sub.commit]);
}

/** Deletes every ref under `prefix`. */
async function dropRefs(git: Git, prefix: string): Promise<void> {
  const refs = await git.run(['for-each-ref', '--format=%(refname)', prefix]);
  for (const ref of refs.stdout.split('\n').filter(Boolean)) {
    await git.run(['update-ref', '-d', ref]);
  }
}

/** Deletes the refs of submodules this version no longer has (gc may then drop their objects). */
async function dropStaleRefs(git: Git, nodes: Node[]): Promise<void> {
  const keep = new Set<string>();
  const walk = (list: Node[]) =>
    list.forEach((n) => {
      keep.add(refFor(n.sub));
      walk(n.children);
    });
  walk(nodes);
  const refs = await git.run(['for-each-ref', '--format=%(refname)', 'refs/gitstrap/modules/']);
  for (const ref of refs.stdout.split('\n').filter(Boolean)) {
    if (!keep.has(ref)) await git.run(['update-ref', '-d', ref]);
  }
}

/**
 * The tree of `commit` with each placed submodule's gitlink replaced by that submodule's (composed)
 * tree, built in a temporary index outside the version (read-tree, update-index, write-tree).
 */
async function composeTree(
  git: Git,
  layout: DataLayout,
  commit: string,
  nodes: Node[],
): Promise<string> {
  if (nodes.length === 0) return `${commit}^{tree}`;
  const index = path.join(
    layout.staging,
    `compose-${process.pid}-${randomBytes(4).toString('hex')}.index`,
  );
  // update-index wants a work tree even for --force-remove: an empty one, never written to.
  const workTree = `${index}.tree`;
  mkdirSync(workTree);
  try {
    const opts = { index, workTree };
    await git.ok('submodules', ['read-tree', commit], opts);
    for (const node of nodes) {
      const tree = await composeTree(git, layout, node.sub.commit, node.children);
      await git.ok('submodules', ['update-index', '--force-remove', '--', node.sub.path], opts);
      await git.ok('submodules', ['read-tree', `--prefix=${node.sub.path}/`, tree], opts);
    }
    return (await git.ok('submodules', ['write-tree'], opts)).trim();
  } finally {
    rmSync(index, { force: true });
    rmSync(`${index}.lock`, { force: true });
    rmSync(workTree, { recursive: true, force: true });
  }
}
