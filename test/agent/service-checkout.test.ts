import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createDataMount } from '../../src/agent/data-mount.js';
import { layoutOf } from '../../src/agent/layout.js';
import { checkoutService, pickRef, pruneCheckouts } from '../../src/agent/service-checkout.js';
import type { GitstrapError } from '../../src/lib/errors.js';
import { memoryLogger } from '../../src/lib/log.js';
import { commitFiles, git, makeRepo, startGitDaemon } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

describe('service checkout', () => {
  test('pickRef prefers a branch, then a peeled tag', () => {
    const out = ['1111 refs/tags/v1', '2222 refs/tags/v1^{}', '3333 refs/heads/main'].join('\n');
    assert.deepEqual(pickRef(out, 'v1'), { commit: '2222', fullRef: 'refs/tags/v1' });
    assert.deepEqual(pickRef(out, 'main'), { commit: '3333', fullRef: 'refs/heads/main' });
    assert.equal(pickRef(out, 'nope'), undefined);
  });

  test('branch, tag and pinned SHA over git daemon; each into service/<commit>; current swapped', async (t) => {
    const dir = tempDir(t);
    const repos = path.join(dir, 'repos');
    const first = makeRepo(path.join(repos, 'svc'), { 'index.html': 'one' });
    git(path.join(repos, 'svc'), 'tag', '-a', 'v1', '-m', 'v1');
    const second = commitFiles(path.join(repos, 'svc'), { 'index.html': 'two' });
    const daemon = await startGitDaemon(t, repos);
    const layout = layoutOf(path.join(dir, 'state'));
    const base = { repo: daemon.url('svc'), layout, logger: memoryLogger() };

    const main = await checkoutService({ ...base, ref: 'main' });
    assert.deepEqual(main, { commit: second, dir: layout.checkout(second), cloned: true });
    assert.equal(readFileSync(path.join(layout.serviceCurrent, 'index.html'), 'utf8'), 'two');

    const tag = await checkoutService({ ...base, ref: 'v1' });
    assert.equal(tag.commit, first);
    assert.equal(readlinkSync(layout.serviceCurrent), first);
    assert.equal(readFileSync(path.join(layout.serviceCurrent, 'index.html'), 'utf8'), 'one');

    const again = await checkoutService({ ...base, ref: second });
    assert.deepEqual(again, { commit: second, dir: layout.checkout(second), cloned: false });
    assert.equal(readlinkSync(layout.serviceCurrent), second);
    assert.equal(git(layout.checkout(second), 'rev-parse', '--is-shallow-repository'), 'true');

    // Old checkouts: the newest other one is kept to go back to, older ones go.
    const third = commitFiles(path.join(repos, 'svc'), { 'index.html': 'three' });
    await checkoutService({ ...base, ref: 'main' });
    const old = new Date(Date.now() - 60_000);
    utimesSync(layout.checkout(first), old, old);
    assert.deepEqual(await pruneCheckouts(layout, third), [first]);
    assert.equal(existsSync(layout.checkout(second)), true);
    assert.equal(existsSync(layout.checkout(third)), true);
  });

  test('a first clone of an annotated tag (no checkout to reuse yet) lands under the commit it points at', async (t) => {
    const dir = tempDir(t);
    const repos = path.join(dir, 'repos');
    const tagged = makeRepo(path.join(repos, 'svc'), { 'index.html': 'one' });
    git(path.join(repos, 'svc'), 'tag', '-a', 'v1', '-m', 'v1');
    commitFiles(path.join(repos, 'svc'), { 'index.html': 'two' });
    const daemon = await startGitDaemon(t, repos);
    const layout = layoutOf(path.join(dir, 'state'));
    const logger = memoryLogger();
    const tag = await checkoutService({ repo: daemon.url('svc'), ref: 'v1', layout, logger });
    assert.deepEqual(tag, { commit: tagged, dir: layout.checkout(tagged), cloned: true });
    assert.equal(readFileSync(path.join(layout.serviceCurrent, 'index.html'), 'utf8'), 'one');
    assert.equal(git(layout.checkout(tagged), 'rev-parse', '--is-shallow-repository'), 'true');
    assert.deepEqual(readdirSync(layout.serviceDir).sort(), [tagged, 'current'].sort());
    assert.deepEqual(
      logger.entries.map((e) => e.event),
      ['service.clone', 'service.checkout'],
    );
  });

  test('a missing ref says so and suggests the closest; an unreachable repo says it cannot reach it', async (t) => {
    const dir = tempDir(t);
    const repos = path.join(dir, 'repos');
    makeRepo(path.join(repos, 'svc'), { 'a.txt': 'a' });
    git(path.join(repos, 'svc'), 'branch', 'release');
    const daemon = await startGitDaemon(t, repos);
    const layout = layoutOf(path.join(dir, 'state'));
    await assert.rejects(
      checkoutService({ repo: daemon.url('svc'), ref: 'relase', layout, logger: memoryLogger() }),
      (error: GitstrapError) => {
        assert.equal(
          error.message,
          `service.ref "relase" is not a branch or tag of ${daemon.url('svc')}`,
        );
        assert.match(error.hint ?? '', /did you mean "release"\?/);
        return true;
      },
    );
    await assert.rejects(
      checkoutService({ repo: daemon.url('nope'), ref: 'main', layout, logger: memoryLogger() }),
      (error: GitstrapError) => {
        assert.match(
          error.message,
          new RegExp(`^cannot reach the service repo ${daemon.url('nope')}: `),
        );
        assert.equal(error.exitCode, 3);
        return true;
      },
    );
    assert.equal(existsSync(layout.serviceCurrent), false);
  });

  test("a clone git cannot check out says so, names git's reason and leaves nothing behind", async (t) => {
    const dir = tempDir(t);
    const repos = path.join(dir, 'repos');
    const svc = path.join(repos, 'svc');
    makeRepo(svc, { 'a.txt': 'a' });
    // A commit whose tree holds ".GIT": git fetches it, then refuses to write that path.
    writeFileSync(path.join(dir, 'x'), 'x\n');
    const blob = git(svc, 'hash-object', '-w', path.join(dir, 'x'));
    const tree = execFileSync('git', ['mktree'], {
      cwd: svc,
      input: `100644 blob ${blob}\t.GIT\n`,
      encoding: 'utf8',
    }).trim();
    git(svc, 'update-ref', 'refs/heads/main', git(svc, 'commit-tree', tree, '-m', 'bad'));
    const daemon = await startGitDaemon(t, repos);
    const layout = layoutOf(path.join(dir, 'state'));
    await assert.rejects(
      checkoutService({ repo: daemon.url('svc'), ref: 'main', layout, logger: memoryLogger() }),
      (error: GitstrapError) => {
        assert.match(
          error.message,
          new RegExp(
            `^cannot clone the service repo ${daemon.url('svc')} at main: .*invalid path '\\.GIT'`,
          ),
        );
        assert.match(error.hint ?? '', /disk has room/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(layout.serviceDir), []);
  });
});

describe('data mount', () => {
  test('replaces an empty placeholder folder with a relative link to data/current', async (t) => {
    const dir = tempDir(t);
    const checkout = path.join(dir, 'service', 'abc');
    mkdirSync(path.join(checkout, 'webcache'), { recursive: true });
    writeFileSync(path.join(checkout, 'webcache', '.gitkeep'), '');
    const link = await createDataMount(checkout, 'webcache', path.join(dir, 'data', 'current'));
    assert.equal(readlinkSync(link), '../../data/current');
    assert.equal(
      await createDataMount(checkout, 'webcache', path.join(dir, 'data', 'current')),
      link,
    );
    await createDataMount(checkout, 'deep/er/mount', path.join(dir, 'data', 'current'));
    assert.equal(readlinkSync(path.join(checkout, 'deep/er/mount')), '../../../../data/current');
  });

  test('a folder of dot-named files only (a committed .gitignore) is replaced, and what it hid is logged', async (t) => {
    const dir = tempDir(t);
    const checkout = path.join(dir, 'service', 'abc');
    mkdirSync(path.join(checkout, 'webcache'), { recursive: true });
    writeFileSync(path.join(checkout, 'webcache', '.gitignore'), '*\n!.gitignore\n');
    writeFileSync(path.join(checkout, 'webcache', '.htaccess'), 'Deny from all\n');
    const logger = memoryLogger();
    const link = await createDataMount(
      checkout,
      'webcache',
      path.join(dir, 'data', 'current'),
      logger,
    );
    assert.equal(readlinkSync(link), '../../data/current');
    const replaced = logger.entries.find((e) => e.event === 'data.mount_replaced');
    assert.deepEqual((replaced?.hidden as string[]).sort(), ['.gitignore', '.htaccess']);
  });

  test('refuses a folder holding a sub-folder, even a dot-named one', async (t) => {
    const dir = tempDir(t);
    const checkout = path.join(dir, 'service', 'abc');
    mkdirSync(path.join(checkout, 'webcache', '.cache'), { recursive: true });
    writeFileSync(path.join(checkout, 'webcache', '.gitignore'), '*\n');
    await assert.rejects(
      createDataMount(checkout, 'webcache', path.join(dir, 'data', 'current')),
      /^GitstrapError: the service repo has files at data\.mount "webcache" \(\.cache\/\); the data would hide them$/,
    );
    assert.ok(existsSync(path.join(checkout, 'webcache', '.gitignore')));
  });

  test('refuses to hide real files of the service repo', async (t) => {
    const dir = tempDir(t);
    const checkout = path.join(dir, 'service', 'abc');
    mkdirSync(path.join(checkout, 'webcache'), { recursive: true });
    writeFileSync(path.join(checkout, 'webcache', 'results.json'), '{}');
    await assert.rejects(
      createDataMount(checkout, 'webcache', path.join(dir, 'data', 'current')),
      (error: GitstrapError) => {
        assert.equal(
          error.message,
          'the service repo has files at data.mount "webcache" (results.json); the data would hide them',
        );
        return true;
      },
    );
    assert.ok(existsSync(path.join(checkout, 'webcache', 'results.json')));
  });
});
