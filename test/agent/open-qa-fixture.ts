// A stand-in for upstream eucalyptus/open-qa and its data repo, for tests of the shipped recipe:
// the service files in fixtures/open-qa/service (written from what upstream does, not its code)
// and the data repo's cache_storage_for_open_qa.tar.gz built here, with records dated by PHP's
// own clock, so the dashboard's "yesterday and today" are the test's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { commitFiles, git, makeRepo, startGitDaemon, type GitDaemon } from '../helpers/git.js';
import { startGitLfsServer, type GitLfsServer } from '../helpers/git-lfs-server.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';

/** The shipped recipe, used as it is. */
export const OPEN_QA_RECIPE = path.join(projectRoot, 'recipes/open-qa.yaml');

const FIXTURE = path.join(projectRoot, 'test/agent/fixtures/open-qa/service');

/** One test record, as the QA server writes it. */
export interface QaRecord {
  date: string;
  test: string;
  uid: number;
  stage?: string;
}

/** The service fixture's files (path → content), dot-files included. */
export function openQaServiceFiles(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else files[path.relative(FIXTURE, full)] = readFileSync(full);
    }
  };
  walk(FIXTURE);
  return files;
}

/** Today and yesterday by PHP's clock (the dashboard's); waits out the last minute of a day. */
export async function phpDates(): Promise<{ today: string; yesterday: string; older: string }> {
  const ask = () =>
    execFileSync(
      'php',
      [
        '-r',
        'echo date("Y-m-d"), " ", date("Y-m-d", strtotime("-1 day")), " ", date("Y-m-d", strtotime("-3 days")), " ", strtotime("tomorrow") - time();',
      ],
      { encoding: 'utf8' },
    ).split(' ');
  const first = ask();
  let [today, yesterday, older] = first;
  if (Number(first[3]) < 90) {
    // The test would straddle midnight, and the dashboard's two days with it.
    await new Promise((r) => setTimeout(r, (Number(first[3]) + 2) * 1000));
    [today, yesterday, older] = ask();
  }
  return { today: today!, yesterday: yesterday!, older: older! };
}

/** cache_storage_for_open_qa.tar.gz in upstream's layout: a folder of day lists and record caches. */
export function openQaTarball(dir: string, records: readonly QaRecord[]): Buffer {
  const work = path.join(dir, `tarball-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  const folder = path.join(work, 'cache_storage_for_open_qa');
  mkdirSync(folder, { recursive: true });
  const lists = new Map<string, string[]>();
  records.forEach((r, i) => {
    const sequence = `seq-${r.uid}`;
    lists.set(r.date, [...(lists.get(r.date) ?? []), `${r.test} ${r.uid} ${sequence}`]);
    const time = `0${i % 10}:1${i % 6}:05`;
    const hash = `${r.uid}`.padStart(8, '0') + 'abcdef0123456789abcdef0123456789';
    writeFileSync(
      path.join(folder, `open_qa_${r.test}_UID_${r.uid}.cache`),
      `[${r.date} ${time}] TESTNAME ${r.test} UID ${r.uid} SEQUENCE ${sequence} OS centos 6.3 GIT_HASH ${hash} TEST_STAGE ${r.stage ?? 'passed'}\n`,
    );
  });
  for (const [date, lines] of lists) {
    writeFileSync(path.join(folder, `this_date_test_list_${date}.lst`), lines.join('\n') + '\n');
  }
  const archive = path.join(work, 'out.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', work, 'cache_storage_for_open_qa']);
  return readFileSync(archive);
}

/** The service and data repos (branch master, as upstream), served by git daemon. */
export interface OpenQaRepos {
  dir: string;
  daemon: GitDaemon;
  service: string;
  data: string;
  /** --set arguments pointing the shipped recipe at them. */
  sets: string[];
}

/** Makes both repos from the service files and the records, on branch master. */
export async function makeOpenQaRepos(
  t: Pick<TestContext, 'after'>,
  serviceFiles: Record<string, string | Buffer>,
  records: readonly QaRecord[],
): Promise<OpenQaRepos> {
  const dir = tempDir(t, 'gitstrap-open-qa-');
  const service = path.join(dir, 'repos', 'open-qa');
  const data = path.join(dir, 'repos', 'open-qa-frontend-data');
  makeRepo(service, serviceFiles);
  makeRepo(data, { 'cache_storage_for_open_qa.tar.gz': openQaTarball(dir, records) });
  for (const repo of [service, data]) git(repo, 'branch', '-m', 'main', 'master');
  const daemon = await startGitDaemon(t, path.join(dir, 'repos'));
  return {
    dir,
    daemon,
    service,
    data,
    sets: [
      `service.repo=${daemon.url('open-qa')}`,
      `data.repo=${daemon.url('open-qa-frontend-data')}`,
    ],
  };
}

/**
 * The data repo as a Git LFS user keeps it: cache_storage_for_open_qa.tar.gz tracked in LFS (git
 * lfs track), on a git host with an LFS API (git smart HTTP + batch API, 127.0.0.1), its objects
 * pushed there. Returns its URL and a way to commit a new tarball (objects pushed too).
 */
export async function makeOpenQaLfsData(
  t: Pick<TestContext, 'after'>,
  dir: string,
  records: readonly QaRecord[],
): Promise<{
  url: string;
  server: GitLfsServer;
  data: string;
  publish: (next: readonly QaRecord[]) => string;
}> {
  const root = path.join(dir, 'lfs-repos');
  const data = path.join(root, 'open-qa-frontend-data');
  makeRepo(data, { README: 'nightly results\n' });
  git(data, 'branch', '-m', 'main', 'master');
  git(data, 'lfs', 'install', '--local');
  git(data, 'lfs', 'track', 'cache_storage_for_open_qa.tar.gz');
  commitFiles(data, { 'cache_storage_for_open_qa.tar.gz': openQaTarball(dir, records) });
  const server = await startGitLfsServer(t, root);
  server.storeFrom(data);
  return {
    url: server.url('open-qa-frontend-data'),
    server,
    data,
    publish: (next) => {
      const commit = commitFiles(data, {
        'cache_storage_for_open_qa.tar.gz': openQaTarball(dir, next),
      });
      server.storeFrom(data);
      return commit;
    },
  };
}
