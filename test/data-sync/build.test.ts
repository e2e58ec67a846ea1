// Building a version: transforms (extract, copy, move, run), checks, commit signatures, and the
// notification after a publish. Every failure leaves `current` where it was.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { requireTool } from '../helpers/tools.js';
import { commitFiles, git, writeFiles } from '../helpers/git.js';
import { startProcess, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import {
  assertTree,
  dataConfig,
  filesAt,
  makeEngine,
  servedCommit,
  startRemote,
  versionsIn,
} from './support.js';

/** A gzipped tarball of `files` inside a top folder `top/`. */
function makeTarball(
  t: Parameters<typeof tempDir>[0],
  top: string,
  files: Record<string, string>,
): Buffer {
  const dir = tempDir(t, 'gitstrap-tar-');
  writeFiles(path.join(dir, top), files);
  return execFileSync('tar', ['-czf', '-', '-C', dir, top]);
}

const node = process.execPath;

describe('building a version', () => {
  test('extract (strip, into), copy, move and run, then checks; a reused folder has no leftovers', async (t) => {
    requireTool('tar', 'tar');
    const tarball = (n: number, extra: Record<string, string>) =>
      makeTarball(t, 'cache_storage', { 'results.json': `{"run":${n}}`, ...extra });
    const remote = await startRemote(t, {
      'cache.tar.gz': tarball(1, { 'old/only-in-1.txt': 'one' }),
      'README.md': 'readme\n',
      'assets/logo.txt': 'logo\n',
    });
    const data = dataConfig({
      repo: remote.url,
      keep: 1,
      transform: [
        { extract: 'cache.tar.gz', strip: 1, into: 'results' },
        { copy: { from: 'assets', to: 'static/assets' } },
        { move: { from: 'README.md', to: 'docs/README.md' } },
        {
          run: [
            node,
            '-e',
            'require("fs").writeFileSync(process.argv[1] + "/stamp.txt", process.argv[2])',
            '{data}',
            '{state}',
          ],
        },
      ],
      check: [
        { exists: 'results/results.json' },
        { json: 'results/results.json' },
        { run: [node, '-e', 'process.exit(require("fs").existsSync("stamp.txt") ? 0 : 1)'] },
      ],
    });
    const { sync, dir } = makeEngine(t, data);
    const state = path.dirname(dir);
    const expected = (n: number, extra: Record<string, string>) =>
      new Map<string, string>([
        ['results/results.json', `{"run":${n}}`],
        ...Object.entries(extra).map(([k, v]) => [`results/${k}`, v] as [string, string]),
        ['assets/logo.txt', 'logo\n'],
        ['static/assets/logo.txt', 'logo\n'],
        ['docs/README.md', 'readme\n'],
        ['stamp.txt', state],
      ]);
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assertTree(path.join(dir, 'current'), expected(1, { 'old/only-in-1.txt': 'one' }));

    // Three more publishes: with keep 1 the third is built in a recycled folder, which must not
    // keep files of an earlier extraction.
    for (let n = 2; n <= 4; n++) {
      commitFiles(remote.work, { 'cache.tar.gz': tarball(n, { [`new/${n}.txt`]: String(n) }) });
      const rn = await sync.sync('manual');
      assert.equal(rn.outcome, 'published', rn.error);
      assert.equal(rn.reusedFolder, n === 4);
      assertTree(path.join(dir, 'current'), expected(n, { [`new/${n}.txt`]: String(n) }));
    }
  });

  test('a corrupt tarball fails in transform; current stays; a good one then publishes', async (t) => {
    const good = makeTarball(t, 'top', { 'a.txt': 'a' });
    const remote = await startRemote(t, { 'd.tgz': good });
    const data = dataConfig({ repo: remote.url, transform: [{ extract: 'd.tgz', strip: 1 }] });
    const { sync, dir } = makeEngine(t, data);
    assert.equal((await sync.sync('manual')).outcome, 'published');
    const before = servedCommit(dir);

    commitFiles(remote.work, { 'd.tgz': good.subarray(0, Math.floor(good.length / 2)) });
    const bad = await sync.sync('manual');
    assert.equal(bad.outcome, 'failed');
    assert.equal(bad.phase, 'transform');
    assert.match(
      bad.error ?? '',
      /^transform 1 \(extract d\.tgz\): the archive is damaged or incomplete: unexpected end of file/,
    );
    assert.match(bad.hint ?? '', /damaged or incomplete/);
    assert.equal(bad.commit, before);
    assert.equal(servedCommit(dir), before);
    assertTree(path.join(dir, 'current'), new Map([['a.txt', 'a']]));
    assert.equal(sync.health().consecutiveFailures, 1);

    commitFiles(remote.work, { 'd.tgz': makeTarball(t, 'top', { 'b.txt': 'b' }) });
    const fixed = await sync.sync('manual');
    assert.equal(fixed.outcome, 'published', fixed.error);
    assertTree(path.join(dir, 'current'), new Map([['b.txt', 'b']]));
    assert.equal(sync.health().consecutiveFailures, 0);
  });

  test('failing checks keep the new version from being published', async (t) => {
    const remote = await startRemote(t, { 'index.json': '{"ok":1}', 'page.html': 'x' });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        failure_budget: 2,
        check: [
          { exists: 'page.html' },
          { json: 'index.json' },
          {
            run: [
              node,
              '-e',
              'process.exit(require("fs").readFileSync("page.html","utf8")==="bad"?4:0)',
            ],
          },
        ],
      }),
    );
    assert.equal((await sync.sync('manual')).outcome, 'published');
    const good = servedCommit(dir);

    const cases: Array<[Record<string, string>, RegExp]> = [
      [
        { 'index.json': '{"ok":' },
        /check 2 \(json index\.json\) failed: index\.json is not valid JSON/,
      ],
      [{ 'index.json': '{}', 'page.html': 'bad' }, /check 3 \(run .*\) failed \(exit code 4\)/],
    ];
    for (const [files, message] of cases) {
      commitFiles(remote.work, files);
      const r = await sync.sync('manual');
      assert.equal(r.outcome, 'failed');
      assert.equal(r.phase, 'check');
      assert.match(r.error ?? '', message);
      assert.equal(servedCommit(dir), good);
    }
    git(remote.work, 'rm', '-q', 'page.html');
    git(remote.work, 'commit', '-q', '-m', 'no page');
    const missing = await sync.sync('manual');
    assert.match(
      missing.error ?? '',
      /check 1 \(exists page\.html\) failed: page\.html does not exist/,
    );
    assert.deepEqual(sync.health(), {
      healthy: false,
      consecutiveFailures: 3,
      lastSuccessAt: sync.history()[3]!.finishedAt,
    });
    assert.deepEqual(versionsIn(dir), [good]);
  });

  test('paths through a symlink out of the data folder are refused; .git in a version is refused', async (t) => {
    const outside = tempDir(t, 'gitstrap-outside-');
    const remote = await startRemote(t, { 'a.txt': 'a' });
    symlinkSync(outside, path.join(remote.work, 'escape'));
    git(remote.work, 'add', 'escape');
    git(remote.work, 'commit', '-q', '-m', 'link');
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        transform: [{ copy: { from: 'a.txt', to: 'escape/a.txt' } }],
      }),
    );
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'transform');
    assert.match(r.error ?? '', /escape\/a\.txt leads outside the data folder/);
    assert.equal(servedCommit(dir), undefined);
    assert.deepEqual(execFileSync('ls', ['-A', outside]).toString(), '');

    const remote2 = await startRemote(t, {
      'x.tgz': makeTarball(t, 'top', { '.git/config': '[core]', 'b.txt': 'b' }),
    });
    const second = makeEngine(
      t,
      dataConfig({ repo: remote2.url, transform: [{ extract: 'x.tgz', strip: 1 }] }),
    );
    const r2 = await second.sync.sync('manual');
    assert.equal(r2.phase, 'check');
    assert.match(r2.error ?? '', /\.git entry at its top level/);
  });

  test('verify: publishes only commits signed by an allowed key', async (t) => {
    requireTool('ssh-keygen', 'openssh-client');
    const keys = tempDir(t, 'gitstrap-keys-');
    const keygen = (name: string) => {
      execFileSync('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        name,
        '-f',
        path.join(keys, name),
      ]);
      return path.join(keys, name);
    };
    const allowed = keygen('allowed');
    const other = keygen('other');
    const pub = readFileSync(`${allowed}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const remote = await startRemote(t, { 'a.txt': 'unsigned' });
    const signedCommit = (key: string, files: Record<string, string>) => {
      writeFiles(remote.work, files);
      git(remote.work, 'add', '-A');
      git(
        remote.work,
        '-c',
        'gpg.format=ssh',
        '-c',
        `user.signingkey=${key}`,
        'commit',
        '-q',
        '-S',
        '-m',
        'signed',
      );
      return git(remote.work, 'rev-parse', 'HEAD');
    };
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        verify: { allowed_signers: [`data@example.invalid ${pub}`] },
      }),
    );
    const unsigned = await sync.sync('manual');
    assert.equal(unsigned.outcome, 'failed');
    assert.equal(unsigned.phase, 'verify');
    assert.match(unsigned.error ?? '', /is not signed/);
    assert.equal(servedCommit(dir), undefined);

    const good = signedCommit(allowed, { 'a.txt': 'signed by allowed' });
    const ok = await sync.sync('manual');
    assert.equal(ok.outcome, 'published', ok.error);
    assert.equal(servedCommit(dir), good);

    signedCommit(other, { 'a.txt': 'signed by someone else' });
    const stranger = await sync.sync('manual');
    assert.equal(stranger.outcome, 'failed');
    assert.equal(stranger.phase, 'verify');
    assert.match(stranger.error ?? '', /not signed by an allowed key/);
    assert.equal(servedCommit(dir), good);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, good));
  });

  test('notify: an HTTP POST, a command, a signal to the service; onPublish; failures do not undo', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const posts: string[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        posts.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(req.url === '/fail' ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;

    const published: string[] = [];
    const http1 = makeEngine(
      t,
      dataConfig({ repo: remote.url, notify: { http: 'http://127.0.0.1:{port}/reload' } }),
      {
        placeholders: { port: String(port) },
        onPublish: (r) => void published.push(`${r.commit} ${r.dir}`),
      },
    );
    const startup = makeEngine(
      t,
      dataConfig({ repo: remote.url, notify: { http: 'http://127.0.0.1:{port}/reload' } }),
      { placeholders: { port: String(port) }, onPublish: () => void published.push('startup') },
    );
    assert.equal((await startup.sync.sync('startup')).outcome, 'published');
    assert.deepEqual(
      posts,
      [],
      'the first version at start-up is not announced: the service is not running yet',
    );
    assert.deepEqual(published.splice(0), ['startup'], 'but the agent still hears of it');

    const r = await http1.sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assert.equal(r.notifyError, undefined);
    assert.equal(posts.length, 1);
    assert.match(posts[0]!, new RegExp(`^POST /reload .*"commit":"${remote.first}"`));
    assert.deepEqual(published, [
      `${remote.first} ${path.join(http1.dir, 'versions', remote.first)}`,
    ]);

    const failing = makeEngine(
      t,
      dataConfig({ repo: remote.url, notify: { http: `http://127.0.0.1:${port}/fail` } }),
    );
    const rf = await failing.sync.sync('manual');
    assert.equal(rf.outcome, 'published');
    assert.match(rf.notifyError ?? '', /answered 500/);
    assert.ok(failing.logger.entries.some((e) => e.event === 'data.notify.failed'));

    const marker = path.join(tempDir(t), 'notified');
    const run = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        notify: {
          run: [
            node,
            '-e',
            'require("fs").writeFileSync(process.argv[1], process.argv[2] + " " + process.env.GITSTRAP_DATA_COMMIT)',
            marker,
            '{data}',
          ],
        },
      }),
    );
    assert.equal((await run.sync.sync('manual')).outcome, 'published');
    assert.equal(
      readFileSync(marker, 'utf8'),
      `${path.join(run.dir, 'versions', remote.first)} ${remote.first}`,
    );

    const service = startProcess(t, node, [
      '-e',
      'process.on("SIGHUP", () => console.log("got SIGHUP")); console.log("ready"); setInterval(() => {}, 1000)',
    ]);
    await waitFor(
      async () => (service.output().includes('ready') ? true : undefined),
      'service ready',
    );
    const signal = makeEngine(t, dataConfig({ repo: remote.url, notify: { signal: 'SIGHUP' } }), {
      servicePid: () => service.pid,
    });
    assert.equal((await signal.sync.sync('manual')).outcome, 'published');
    await waitFor(
      async () => (service.output().includes('got SIGHUP') ? true : undefined),
      'SIGHUP',
      5000,
    );
  });

  test('a transform command gets placeholders and a time limit', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    mkdirSync(path.join(remote.base, 'x'));
    writeFileSync(path.join(remote.base, 'x', 'y'), '');
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        transform: [{ run: [node, '-e', 'setTimeout(() => {}, 60000)'], timeout: '300ms' }],
      }),
    );
    const started = Date.now();
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'transform');
    assert.match(r.error ?? '', /timed out after 300 ms/);
    assert.ok(Date.now() - started < 5000);
    assert.equal(servedCommit(dir), undefined);
  });
});
