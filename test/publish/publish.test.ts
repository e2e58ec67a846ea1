// `bootstrap publish` as a black box (the built CLI) against real bare repos: the shipped open-qa
// recipe's tarball, deterministic and published only when the folder changed; refusals before
// anything is pushed; publish.keep_history; the lock; credentials kept out of messages.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { identifyProcess } from '../../src/lib/pid-lock.js';
import { BIN, runCli } from '../helpers/cli.js';
import { startProcess, waitFor } from '../helpers/proc.js';
import { git, writeFiles } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

const OPEN_QA = ['--recipe', 'open-qa'];

/** A bare data repo on branch master (as open-qa's), and a publisher's state root. */
function setUp(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t, 'gitstrap-publish-');
  const bare = path.join(dir, 'data.git');
  git(dir, 'init', '-q', '--bare', '-b', 'master', bare);
  const folder = path.join(dir, 'qa');
  const root = path.join(dir, 'state');
  return { dir, bare, folder, root };
}

/** The QA server's folder: day lists and record caches. */
function qaFiles(day: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let d = 1; d <= day; d++) {
    files[`this_date_test_list_2024-05-0${d}.lst`] = `smoke ${d} seq-${d}\n`;
    files[`open_qa_smoke_UID_${d}.cache`] = `[2024-05-0${d} 00:01:05] TESTNAME smoke UID ${d}\n`;
  }
  return files;
}

function publish(s: ReturnType<typeof setUp>, ...extra: string[]) {
  return runCli([
    'publish',
    ...OPEN_QA,
    '--set',
    `data.repo=${s.bare}`,
    '--from',
    s.folder,
    '--root',
    s.root,
    '--once',
    ...extra,
  ]);
}

/** `tar -tv` of the tarball on the branch: "mode owner size time name" per member. */
function tarListing(bare: string, rev = 'master'): string[] {
  const archive = execFileSync('git', [
    '-C',
    bare,
    'cat-file',
    'blob',
    `${rev}:cache_storage_for_open_qa.tar.gz`,
  ]);
  return execFileSync('tar', ['--full-time', '-tvzf', '-'], { input: archive, encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('bootstrap publish: the open-qa tarball', () => {
  test('the folder becomes cache_storage_for_open_qa.tar.gz (owners 0/0, sorted); unchanged publishes nothing, a change only what changed', async (t) => {
    const s = setUp(t);
    writeFiles(s.folder, qaFiles(2));
    const first = await publish(s);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /^published [0-9a-f]{12} on master \(was nothing; 4 files \(cache_storage_for_open_qa\.tar\.gz [\d.]+ KB, 5 members\)/,
    );
    assert.deepEqual(git(s.bare, 'ls-tree', '--name-only', 'master').split('\n'), [
      'cache_storage_for_open_qa.tar.gz',
    ]);
    const listing = tarListing(s.bare);
    assert.deepEqual(
      listing.map((l) => l.split(/\s+/).slice(-1)[0]),
      [
        'cache_storage_for_open_qa/',
        'cache_storage_for_open_qa/open_qa_smoke_UID_1.cache',
        'cache_storage_for_open_qa/open_qa_smoke_UID_2.cache',
        'cache_storage_for_open_qa/this_date_test_list_2024-05-01.lst',
        'cache_storage_for_open_qa/this_date_test_list_2024-05-02.lst',
      ],
    );
    for (const line of listing) assert.match(line, /^(-rw-r--r--|drwxr-xr-x) 0\/0 /);
    const commit = git(s.bare, 'rev-parse', 'master');

    // New times on every file, same content; then a fresh state root (no cache): nothing published.
    for (const name of Object.keys(qaFiles(2))) {
      utimesSync(path.join(s.folder, name), new Date(), new Date(Date.now() + 5000));
    }
    const again = await publish(s);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^unchanged: master already holds this folder at /);
    rmSync(s.root, { recursive: true, force: true });
    assert.match((await publish(s)).stdout, /^unchanged/);
    assert.equal(git(s.bare, 'rev-parse', 'master'), commit, 'no new commit');

    // One new day: the old members keep their times, the new ones get the publish's.
    await new Promise((r) => setTimeout(r, 1100));
    writeFiles(s.folder, qaFiles(3));
    const third = await publish(s, '--message', 'results of 2024-05-03');
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /^published [0-9a-f]{12} on master \(was [0-9a-f]{12}; 6 files/);
    assert.equal(git(s.bare, 'log', '-1', '--format=%s', 'master'), 'results of 2024-05-03');
    assert.match(
      git(s.bare, 'log', '-1', '--format=%b', 'master'),
      /^Gitstrap-Snapshot: sha256:[0-9a-f]{64}$/,
    );
    const time = (lines: string[], name: string) =>
      lines
        .find((l) => l.endsWith(name))!
        .split(/\s+/)
        .slice(3, 5)
        .join(' ');
    const after = tarListing(s.bare);
    assert.equal(time(after, 'UID_1.cache'), time(listing, 'UID_1.cache'));
    assert.notEqual(time(after, 'UID_3.cache'), time(listing, 'UID_1.cache'));
    assert.equal(git(s.bare, 'rev-list', '--count', 'master'), '2');
  });
});

describe('bootstrap publish: refusals, before anything is pushed', () => {
  test('a run transform, a version the instances would refuse, past data.limits, an empty folder, a .git: exit 1, the key named', async (t) => {
    const s = setUp(t);
    const recipe = path.join(s.dir, 'runs.yaml');
    writeFileSync(
      recipe,
      stringify({
        name: 'runs',
        service: { repo: '/srv/x', runtime: 'static' },
        data: {
          repo: s.bare,
          ref: 'master',
          mount: 'data',
          transform: [{ run: ['make', 'site'] }],
        },
      }),
    );
    writeFiles(s.folder, qaFiles(2));
    const run = await runCli([
      'publish',
      '--recipe',
      recipe,
      '--from',
      s.folder,
      '--root',
      s.root,
      '--once',
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^error: data\.transform\[0\] \(run make\) cannot be inverted/);
    assert.match(run.stderr, /hint: publish works with extract, copy and move transforms/);

    // open-qa's check: a day list at the top (after strip: 1).
    rmSync(s.folder, { recursive: true });
    writeFiles(s.folder, { 'open_qa_smoke_UID_1.cache': 'x\n' });
    const check = await publish(s);
    assert.equal(check.code, 1);
    assert.match(
      check.stderr,
      /^error: the instances would refuse this version: check 1 \(run sh\) failed/,
    );

    writeFiles(s.folder, qaFiles(3));
    const limits = await publish(s, '--set', 'data.limits.max_files=3');
    assert.equal(limits.code, 1);
    assert.match(
      limits.stderr,
      /^error: the instances would refuse this version: transform 1 \(extract cache_storage_for_open_qa\.tar\.gz\)/,
    );

    mkdirSync(path.join(s.folder, 'sub', '.git'), { recursive: true });
    const dotGit = await publish(s);
    assert.equal(dotGit.code, 1);
    assert.match(dotGit.stderr, /sub\/\.git: a folder to publish may not hold \.git/);

    const empty = path.join(s.dir, 'empty');
    mkdirSync(empty);
    const none = await runCli([
      'publish',
      ...OPEN_QA,
      '--set',
      `data.repo=${s.bare}`,
      '--from',
      empty,
      '--root',
      s.root,
      '--once',
    ]);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /holds no files: publishing it would empty the data on every instance/,
    );

    assert.equal(git(s.bare, 'for-each-ref').trim(), '', 'nothing was pushed');
  });

  test('credentials never reach a message: a token in publish.repo is refused, redacted', async (t) => {
    const s = setUp(t);
    writeFiles(s.folder, qaFiles(1));
    const token = 'ghp_' + 'A1b2C3d4'.repeat(5);
    const r = await publish(s, '--set', `publish.repo=https://qa:${token}@127.0.0.1:9/data.git`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /publish\.repo: carries a credential/);
    assert.match(r.stderr, /https:\/\/\*\*\*@127\.0\.0\.1:9\/data\.git/);
    assert.ok(!r.stderr.includes(token) && !r.stdout.includes(token));
    // An unreachable host: the message names the repo and says what to check.
    const down = await publish(s, '--set', 'publish.repo=https://127.0.0.1:9/data.git');
    assert.equal(down.code, 3);
    assert.match(
      down.stderr,
      /^error: cannot ask https:\/\/127\.0\.0\.1:9\/data\.git where master points \(exit code 128\)/,
    );
    assert.match(down.stderr, /hint: check publish\.repo \(or data\.repo\)/);
  });
});

describe('bootstrap publish: history and the lock', () => {
  test('publish.keep_history: the branch keeps N commits, re-created with their messages and dates', async (t) => {
    const s = setUp(t);
    const made: string[] = [];
    for (let day = 1; day <= 5; day++) {
      writeFiles(s.folder, qaFiles(day));
      const r = await publish(s, '--set', 'publish.keep_history=3', '--message', `day ${day}`);
      assert.equal(r.code, 0, r.stderr);
      if (day >= 4) assert.match(r.stdout, /history trimmed to 3 commits/);
      else assert.doesNotMatch(r.stdout, /trimmed/);
      made.push(git(s.bare, 'log', '-1', '--format=%T %ad %cd %an', '--date=raw', 'master'));
    }
    assert.equal(git(s.bare, 'rev-list', '--count', 'master'), '3');
    assert.deepEqual(git(s.bare, 'log', '--format=%s', 'master').split('\n'), [
      'day 5',
      'day 4',
      'day 3',
    ]);
    // The re-created commits: the same trees, dates and authors as the ones published.
    assert.deepEqual(
      git(s.bare, 'log', '--format=%T %ad %cd %an', '--date=raw', 'master').split('\n'),
      made.slice(2).reverse(),
    );
    assert.equal(
      git(s.bare, 'rev-list', '--max-parents=0', 'master'),
      git(s.bare, 'rev-parse', 'master~2'),
    );
  });

  test('data.verify: publish signs its commit, and refuses one the instances would not accept', async (t) => {
    const s = setUp(t);
    writeFiles(s.folder, qaFiles(1));
    const key = (name: string) => {
      execFileSync('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        `${name}@example.invalid`,
        '-f',
        path.join(s.dir, `key-${name}`),
      ]);
      return readFileSync(path.join(s.dir, `key-${name}.pub`), 'utf8').trim();
    };
    const allowed = `qa@example.invalid ${key('qa')}`;
    key('intruder');
    const recipe = path.join(s.dir, 'signed.yaml');
    writeFileSync(
      recipe,
      stringify({
        name: 'signed',
        service: { repo: '/srv/x', runtime: 'static' },
        data: {
          repo: s.bare,
          ref: 'master',
          mount: 'data',
          transform: [{ extract: 'results.tgz', strip: 1 }],
          verify: { allowed_signers: [allowed] },
        },
      }),
    );
    const signWith = (name: string) => ({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'gpg.format',
      GIT_CONFIG_VALUE_0: 'ssh',
      GIT_CONFIG_KEY_1: 'user.signingkey',
      GIT_CONFIG_VALUE_1: path.join(s.dir, `key-${name}.pub`),
    });
    const args = ['publish', '--recipe', recipe, '--from', s.folder, '--root', s.root, '--once'];
    const wrong = await runCli(args, { env: signWith('intruder') });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^error: the commit is not signed by a key in data\.verify\.allowed_signers, so the instances would refuse it/,
    );
    assert.equal(git(s.bare, 'for-each-ref').trim(), '', 'nothing was pushed');
    const right = await runCli(args, { env: signWith('qa') });
    assert.equal(right.code, 0, right.stderr);
    writeFileSync(path.join(s.dir, 'signers'), `${allowed}\n`);
    git(
      s.bare,
      '-c',
      `gpg.ssh.allowedSignersFile=${path.join(s.dir, 'signers')}`,
      'verify-commit',
      'master',
    );
  });

  test('without --once: publishes now, then on publish.schedule, until stopped', async (t) => {
    const s = setUp(t);
    writeFiles(s.folder, qaFiles(1));
    const proc = startProcess(t, process.execPath, [
      BIN,
      'publish',
      ...OPEN_QA,
      '--set',
      `data.repo=${s.bare}`,
      '--set',
      'publish.schedule=* * * * * *',
      '--from',
      s.folder,
      '--root',
      s.root,
    ]);
    const events = () =>
      proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { event: string }).event);
    await waitFor(
      async () => (events().includes('publish.unchanged') ? true : undefined),
      'a scheduled run',
    );
    writeFiles(s.folder, qaFiles(2));
    await waitFor(
      async () =>
        events().filter((e) => e === 'publish.published').length === 2 ? true : undefined,
      'the change published on schedule',
    );
    await proc.stop('SIGTERM');
    assert.equal(await proc.exited, 0);
    assert.equal(events().at(-1), 'publish.schedule.stopped');
    assert.equal(git(s.bare, 'rev-list', '--count', 'master'), '2');
  });

  test("a live publish is named and left alone; a dead one's lock is taken over", async (t) => {
    const s = setUp(t);
    writeFiles(s.folder, qaFiles(1));
    const lockDir = path.join(s.root, 'publish');
    mkdirSync(lockDir, { recursive: true });
    const lock = path.join(lockDir, 'publish.lock');
    writeFileSync(
      lock,
      JSON.stringify({
        ...identifyProcess(process.pid),
        token: 't1',
        since: '2024-05-01T00:01:00Z',
      }),
    );
    const busy = await publish(s);
    assert.equal(busy.code, 3);
    assert.match(
      busy.stderr,
      new RegExp(
        `another publish is running for this state folder \\(pid ${process.pid}, since 2024-05-01T00:01:00Z\\)`,
      ),
    );
    assert.equal(git(s.bare, 'for-each-ref').trim(), '');

    const gone = spawn('true');
    await new Promise((r) => gone.on('exit', r));
    writeFileSync(
      lock,
      JSON.stringify({ pid: gone.pid, token: 't2', since: '2024-05-01T00:01:00Z' }),
    );
    const took = await publish(s);
    assert.equal(took.code, 0, took.stderr);
    assert.match(took.stdout, /^published /);
    assert.throws(() => readFileSync(lock), /ENOENT/, 'the lock is released');
  });
});
