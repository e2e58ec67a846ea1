// What a data repo may not do to the instance through `extract` (and through symlinks at all):
// write outside its version folder through a committed symlink or one an archive makes, leave a
// symlink that resolves outside the version, or expand without bound. Each case runs the real engine
// against a real data repo; a refused version is not published and `current` stays where it was.
import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { createGzip } from 'node:zlib';
import assert from 'node:assert/strict';
import { commitFiles, git, writeFiles } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { execCommand } from '../../data-sync/src/exec.js';
import { resolveLimits } from '../../data-sync/src/limits.js';
import {
  assertTree,
  dataConfig,
  listFiles,
  makeEngine,
  servedCommit,
  startRemote,
  versionsIn,
} from './support.js';
import { makeTar, makeTgz } from './tar-writer.js';

const node = process.execPath;

/** A tar (by GNU tar) of `entries` under a fresh folder: files are written, symlinks made. */
function gnuTar(
  t: TestContext,
  entries: Record<string, string | { symlink: string }>,
  members: string[],
): Buffer {
  requireTool('tar', 'tar');
  const dir = tempDir(t, 'gitstrap-tarsrc-');
  for (const [name, value] of Object.entries(entries)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof value === 'string') writeFileSync(file, value);
    else symlinkSync(value.symlink, file);
  }
  return execFileSync('tar', ['-cf', '-', '-C', dir, ...members]);
}

/** Commits a symlink `name -> target` to the data repo's work tree (git stores it as a link). */
function commitSymlink(work: string, name: string, target: string): string {
  mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
  symlinkSync(target, path.join(work, name));
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', `link ${name}`);
  return git(work, 'rev-parse', 'HEAD');
}

/** Publishes the repo's first commit, then returns a check that it is still what is served. */
async function publishFirst(
  sync: ReturnType<typeof makeEngine>['sync'],
  dir: string,
  files: Map<string, string>,
): Promise<() => void> {
  const r = await sync.sync('manual');
  assert.equal(r.outcome, 'published', r.error);
  const served = servedCommit(dir);
  return () => {
    assert.equal(servedCommit(dir), served, 'current did not move');
    assertTree(path.join(dir, 'current'), files);
    assert.deepEqual(versionsIn(dir), [served]);
  };
}

describe('extract: nothing is written outside the version', () => {
  test('a committed symlink out of the version: a member through it is refused (the issue as reported)', async (t) => {
    const outside = tempDir(t, 'gitstrap-outside-');
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({ repo: remote.url, transform: [{ extract: 'evil.tar' }] }),
    );
    // The first commit has no evil.tar: extract fails, nothing is served. Serve a good one first.
    commitFiles(remote.work, { 'evil.tar': gnuTar(t, { 'ok.txt': 'ok' }, ['ok.txt']) });
    const unchanged = await publishFirst(
      sync,
      dir,
      new Map([
        ['a.txt', 'a'],
        ['ok.txt', 'ok'],
      ]),
    );

    commitFiles(remote.work, { 'evil.tar': gnuTar(t, { 'out/pwned': 'pwned' }, ['out/pwned']) });
    commitSymlink(remote.work, 'out', outside);
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'transform');
    assert.match(
      r.error ?? '',
      /^transform 1 \(extract evil\.tar\): member "out\/pwned" .*through the symlink "out"/,
    );
    assert.deepEqual(readdirSync(outside), [], 'nothing written outside');
    unchanged();
  });

  test('a relative committed link into the service folder (../../../service/COMMIT) is refused', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({ repo: remote.url, transform: [{ extract: 'evil.tar' }] }),
    );
    // The agent's state root: data/ beside service/COMMIT/, the service's code.
    const service = path.join(path.dirname(dir), 'service', 'c0ffee');
    writeFiles(service, { 'server.js': 'original' });
    commitFiles(remote.work, {
      'evil.tar': gnuTar(t, { 'svc/server.js': 'rewritten' }, ['svc/server.js']),
    });
    commitSymlink(remote.work, 'svc', '../../../service/c0ffee');
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.match(r.error ?? '', /symlink/);
    assert.equal(readFileSync(path.join(service, 'server.js'), 'utf8'), 'original');
    assert.equal(servedCommit(dir), undefined);
  });

  test('in two steps: a link made by one extract is not written through by the next', async (t) => {
    const outside = tempDir(t, 'gitstrap-outside-');
    const remote = await startRemote(t, {
      'one.tar': gnuTar(t, { lnk: { symlink: outside } }, ['lnk']),
      'two.tar': gnuTar(t, { 'lnk/file': 'x' }, ['lnk/file']),
    });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        transform: [{ extract: 'one.tar' }, { extract: 'two.tar' }],
      }),
    );
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'transform');
    assert.match(
      r.error ?? '',
      /^transform 1 \(extract one\.tar\): member "lnk" is a symlink to ".*" that leads outside the version/,
    );
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(servedCommit(dir), undefined);

    // Even a link that stays inside is not written through by a later step.
    commitFiles(remote.work, {
      'one.tar': gnuTar(t, { lnk: { symlink: 'real' }, 'real/keep.txt': 'k' }, ['real', 'lnk']),
    });
    const r2 = await sync.sync('manual');
    assert.equal(r2.outcome, 'failed');
    assert.match(
      r2.error ?? '',
      /^transform 2 \(extract two\.tar\): member "lnk\/file" .*through the symlink "lnk"/,
    );
  });

  test('in one archive: a link, then a file through it, is refused', async (t) => {
    const outside = tempDir(t, 'gitstrap-outside-');
    const remote = await startRemote(t, {
      'x.tar': makeTar([
        { name: 'lnk', type: 'symlink', target: 'sub' },
        { name: 'sub/', type: 'dir' },
        { name: 'lnk/file', type: 'file', content: 'x' },
      ]),
      'y.tar': makeTar([
        { name: 'up', type: 'symlink', target: outside },
        { name: 'up/file', type: 'file', content: 'x' },
      ]),
    });
    const config = (archive: string) =>
      dataConfig({ repo: remote.url, transform: [{ extract: archive }] });
    const x = await makeEngine(t, config('x.tar')).sync.sync('manual');
    assert.equal(x.outcome, 'failed');
    assert.match(
      x.error ?? '',
      /^transform 1 \(extract x\.tar\): member "lnk\/file" goes through "lnk", a symlink earlier in the archive/,
    );
    const y = await makeEngine(t, config('y.tar')).sync.sync('manual');
    assert.equal(y.outcome, 'failed');
    assert.match(y.error ?? '', /member "up"/);
    assert.deepEqual(readdirSync(outside), []);
  });

  test('names with "..", absolute names, devices, fifos and bad hard links are refused, naming the member', async (t) => {
    const outside = tempDir(t, 'gitstrap-outside-');
    const cases: Array<[ReturnType<typeof makeTar>, RegExp]> = [
      [
        makeTar([{ name: '../escape.txt', type: 'file', content: 'x' }]),
        /member "\.\.\/escape\.txt" has "\.\." in its name/,
      ],
      [
        makeTar([{ name: 'a/../../escape.txt', type: 'file', content: 'x' }]),
        /member "a\/\.\.\/\.\.\/escape\.txt" has "\.\." in its name/,
      ],
      [
        makeTar([{ name: `${outside}/abs.txt`, type: 'file', content: 'x' }]),
        /member ".*\/abs\.txt" has an absolute name/,
      ],
      [
        makeTar([{ name: 'null', type: 'chardev' }]),
        /member "null" is a character device: only files, folders and links are extracted/,
      ],
      [
        makeTar([{ name: 'pipe', type: 'fifo' }]),
        /member "pipe" is a fifo: only files, folders and links are extracted/,
      ],
      [
        makeTar([{ name: 'h', type: 'hardlink', target: 'missing' }]),
        /member "h" is a hard link to "missing", which is not a file extracted before it/,
      ],
      [
        makeTar([{ name: 'h', type: 'hardlink', target: `${outside}/x` }]),
        /member "h" is a hard link to ".*\/x", which has an absolute name/,
      ],
      [
        makeTar([{ name: 'up', type: 'symlink', target: '../../..' }]),
        /member "up" is a symlink to "\.\.\/\.\.\/\.\." that leads outside the version/,
      ],
    ];
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({ repo: remote.url, transform: [{ extract: 'x.tar' }] }),
    );
    for (const [archive, message] of cases) {
      commitFiles(remote.work, { 'x.tar': archive });
      const r = await sync.sync('manual');
      assert.equal(r.outcome, 'failed', String(message));
      assert.equal(r.phase, 'transform', r.error);
      assert.match(r.error ?? '', /^transform 1 \(extract x\.tar\): /);
      assert.match(r.error ?? '', message);
      assert.doesNotMatch(r.error ?? '', /\n\s+at /, 'no stack trace');
      assert.equal(servedCommit(dir), undefined);
    }
    assert.deepEqual(readdirSync(outside), []);
  });

  test('links that stay inside, hard links, strip and into work; a compressed tar from GNU tar too', async (t) => {
    const tgz = execFileSync('gzip', ['-c'], {
      input: gnuTar(
        t,
        {
          'top/data/a.json': '{"a":1}',
          'top/data/latest': { symlink: 'a.json' },
          'top/up': { symlink: '../../README.md' },
        },
        ['top'],
      ),
    });
    const remote = await startRemote(t, {
      'site.tgz': tgz,
      'README.md': 'readme',
      'h.tar': makeTar([
        { name: 'x/f.txt', type: 'file', content: 'f' },
        { name: 'x/h.txt', type: 'hardlink', target: 'x/f.txt' },
        { name: 'x/f.txt', type: 'file', content: 'replaced' },
      ]),
    });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        transform: [
          { extract: 'site.tgz', strip: 1, into: 'out/site' },
          { extract: 'h.tar', keep_archive: true },
        ],
        check: [{ json: 'out/site/data/latest' }],
      }),
    );
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    const current = path.join(dir, 'current');
    assert.deepEqual(listFiles(current), [
      'README.md',
      'h.tar',
      'out/site/data/a.json',
      'out/site/data/latest',
      'out/site/up',
      'x/f.txt',
      'x/h.txt',
    ]);
    assert.equal(readlinkSync(path.join(current, 'out/site/data/latest')), 'a.json');
    assert.equal(readlinkSync(path.join(current, 'out/site/up')), '../../README.md');
    assert.equal(readFileSync(path.join(current, 'out/site/up'), 'utf8'), 'readme');
    // A later member of the same name replaces the file; the hard link keeps what it linked to.
    assert.equal(readFileSync(path.join(current, 'x/f.txt'), 'utf8'), 'replaced');
    assert.equal(readFileSync(path.join(current, 'x/h.txt'), 'utf8'), 'f');
    assert.equal(lstatSync(path.join(current, 'x/h.txt')).nlink, 1);
  });
});

describe('symlinks that resolve outside the version are refused wherever they come from', () => {
  test('a chain of links that each look inside (d/e/a -> ../.., d/e/b -> a/../..): committed, archived, made by run', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }));
    commitSymlink(remote.work, 'd/e/a', '../..');
    const inside = await sync.sync('manual');
    assert.equal(inside.outcome, 'published', `d/e/a -> ../.. stays inside: ${inside.error}`);
    commitSymlink(remote.work, 'd/e/b', 'a/../..');
    const committed = await sync.sync('manual');
    assert.equal(committed.outcome, 'failed');
    assert.equal(committed.phase, 'check');
    assert.match(
      committed.error ?? '',
      /the new version has a symlink that leads outside it: "d\/e\/b" -> "a\/\.\.\/\.\."/,
    );
    assert.equal(servedCommit(dir), inside.commit, 'current did not move');

    const remote2 = await startRemote(t, {
      'chain.tar': makeTar([
        { name: 'd/e/a', type: 'symlink', target: '../..' },
        { name: 'd/e/b', type: 'symlink', target: 'a/../..' },
      ]),
    });
    const archived = await makeEngine(
      t,
      dataConfig({ repo: remote2.url, transform: [{ extract: 'chain.tar' }] }),
    ).sync.sync('manual');
    assert.equal(archived.outcome, 'failed');
    assert.equal(archived.phase, 'transform');
    assert.match(
      archived.error ?? '',
      /^transform 1 \(extract chain\.tar\): member "d\/e\/b" is a symlink to "a\/\.\.\/\.\." that leads outside the version/,
    );

    const made = await makeEngine(
      t,
      dataConfig({
        repo: remote2.url,
        transform: [
          { run: [node, '-e', 'require("fs").symlinkSync("../../../..", "made-by-run")'] },
        ],
      }),
    ).sync.sync('manual');
    assert.equal(made.outcome, 'failed');
    assert.equal(made.phase, 'check');
    assert.match(made.error ?? '', /"made-by-run" -> "\.\.\/\.\.\/\.\.\/\.\."/);
  });

  test('a committed link out of the version is refused before any transform runs', async (t) => {
    const outside = tempDir(t, 'gitstrap-outside-');
    const remote = await startRemote(t, { 'a.txt': 'a' });
    commitSymlink(remote.work, 'shared', outside);
    const marker = path.join(outside, 'ran');
    const r = await makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        transform: [{ run: [node, '-e', `require("fs").writeFileSync("shared/ran", "x")`] }],
      }),
    ).sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'check');
    assert.match(
      r.error ?? '',
      /symlink that leads outside it: "shared" -> "\/.*" \(it has an absolute target\)/,
    );
    assert.throws(() => lstatSync(marker), /ENOENT/);
  });
});

/** A .tgz holding one file of `size` zero bytes, made as a stream (never the whole file in memory). */
async function zeroBomb(size: number): Promise<Buffer> {
  const header = makeTar([{ name: 'zeros.bin', type: 'file', content: '' }]).subarray(0, 512);
  // The same header with the size filled in (and its checksum recomputed).
  const h = Buffer.from(header);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (d: Buffer) => out.push(d));
  const done = new Promise((r) => gzip.on('end', r));
  gzip.write(h);
  const zeros = Buffer.alloc(1024 * 1024);
  for (let left = size + 1024 + ((512 - (size % 512)) % 512); left > 0; left -= zeros.length) {
    if (!gzip.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) {
      await new Promise((r) => gzip.once('drain', r));
    }
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

describe('extraction limits (data.limits)', () => {
  test('defaults: 256mb and 100000 members per version', () => {
    const limits = resolveLimits(dataConfig({ repo: 'https://example.invalid/d.git' }).limits);
    assert.equal(limits.maxBytes, 256 * 1024 * 1024);
    assert.equal(limits.maxFiles, 100_000);
  });

  test('a gzip bomb (200 KB expanding to 200 MB) stops at max_bytes; nothing is published', async (t) => {
    const bomb = await zeroBomb(200 * 1024 * 1024);
    assert.ok(bomb.length < 300 * 1024, `the bomb is small (${bomb.length} bytes)`);
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        limits: { max_bytes: '20mb' },
        transform: [{ extract: 'bomb.tgz' }],
      }),
    );
    commitFiles(remote.work, { 'bomb.tgz': makeTgz([{ name: 'ok', type: 'file' }]) });
    const unchanged = await publishFirst(
      sync,
      dir,
      new Map([
        ['a.txt', 'a'],
        ['ok', ''],
      ]),
    );
    commitFiles(remote.work, { 'bomb.tgz': bomb });
    const started = Date.now();
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'transform');
    assert.match(
      r.error ?? '',
      /^transform 1 \(extract bomb\.tgz\): the archives of this version expand to more than 20mb \(data\.limits\.max_bytes\), at member "zeros\.bin"/,
    );
    assert.match(r.hint ?? '', /data\.limits\.max_bytes/);
    assert.ok(Date.now() - started < 20_000, 'stopped early');
    // What the stopped extraction wrote is gone: only the staging folder of the failed build is left.
    const staging = path.join(dir, 'staging');
    assert.deepEqual(readdirSync(staging).sort(), ['next', 'next.index']);
    unchanged();
  });

  test('max_files counts members over every extraction of one version', async (t) => {
    const files = (prefix: string, n: number) =>
      makeTgz(
        Array.from({ length: n }, (_, i) => ({
          name: `${prefix}/${i}.txt`,
          type: 'file' as const,
          content: `${i}`,
        })),
      );
    const remote = await startRemote(t, {
      'one.tgz': files('one', 12),
      'two.tgz': files('two', 12),
    });
    const config = (max: number, transform: object[]) =>
      dataConfig({ repo: remote.url, limits: { max_files: max }, transform });
    const single = await makeEngine(t, config(10, [{ extract: 'one.tgz' }])).sync.sync('manual');
    assert.equal(single.outcome, 'failed');
    // Twelve files (no folder members): the eleventh is one too many.
    assert.match(
      single.error ?? '',
      /^transform 1 \(extract one\.tgz\): the archives of this version hold more than 10 members \(data\.limits\.max_files\), at member "one\/10\.txt"/,
    );
    const both = await makeEngine(
      t,
      config(20, [{ extract: 'one.tgz' }, { extract: 'two.tgz' }]),
    ).sync.sync('manual');
    assert.equal(both.outcome, 'failed');
    assert.match(both.error ?? '', /^transform 2 \(extract two\.tgz\): .* more than 20 members/);
    const enough = await makeEngine(
      t,
      config(24, [{ extract: 'one.tgz' }, { extract: 'two.tgz' }]),
    ).sync.sync('manual');
    assert.equal(enough.outcome, 'published', enough.error);
  });

  test("an extraction stops at its transform's timeout, and when the sync is aborted", async (t) => {
    const big = await zeroBomb(64 * 1024 * 1024);
    const remote = await startRemote(t, { 'big.tgz': big });
    const timedOut = await makeEngine(
      t,
      dataConfig({ repo: remote.url, transform: [{ extract: 'big.tgz', timeout: '1ms' }] }),
    ).sync.sync('manual');
    assert.equal(timedOut.outcome, 'failed');
    assert.match(timedOut.error ?? '', /^transform 1 \(extract big\.tgz\): timed out after 1 ms/);

    // The abort comes right after the checkout, so it lands in the extraction.
    const controller = new AbortController();
    const { sync, dir } = makeEngine(
      t,
      dataConfig({ repo: remote.url, transform: [{ extract: 'big.tgz' }] }),
      {
        exec: async (argv, options) => {
          const result = await execCommand(argv, options);
          if (argv.includes('read-tree')) controller.abort();
          return result;
        },
      },
    );
    const aborted = await sync.sync('manual', { signal: controller.signal });
    assert.equal(aborted.outcome, 'failed');
    assert.equal(aborted.phase, 'transform');
    assert.match(
      aborted.error ?? '',
      /^interrupted \(transform 1 \(extract big\.tgz\): interrupted\)/,
    );
    assert.equal(servedCommit(dir), undefined);
    assert.deepEqual(readdirSync(path.join(dir, 'staging')).sort(), ['next', 'next.index']);
  });
});
