// Submodules of the service repo (service.submodules) through checkoutService, against real git
// behind `git daemon` on 127.0.0.1: a nested submodule with relative URLs, registered as git
// registers them; an unreachable one (nothing left behind); a URL the recipe does not allow.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { layoutOf } from '../../src/agent/layout.js';
import { checkoutService } from '../../src/agent/service-checkout.js';
import type { GitstrapError } from '../../src/lib/errors.js';
import { memoryLogger } from '../../src/lib/log.js';
import { commitFiles, git, makeRepo, pinSubmodule, startGitDaemon } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

async function serviceRepos(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t, 'gitstrap-service-submodules-');
  const repo = (name: string) => path.join(dir, 'repos', name);
  const lib = makeRepo(repo('lib'), { 'lib.js': 'export const lib = 1;\n' });
  makeRepo(repo('theme'), { 'theme.css': 'body { margin: 0 }\n' });
  pinSubmodule(repo('theme'), { path: 'vendor/lib', url: '../lib', commit: lib });
  const theme = commitFiles(repo('theme'), {}, 'pin lib');
  makeRepo(repo('svc'), { 'index.html': '<link rel="stylesheet" href="theme/theme.css">' });
  pinSubmodule(repo('svc'), { path: 'theme', url: '../theme', commit: theme });
  const svc = commitFiles(repo('svc'), {}, 'pin theme');
  const daemon = await startGitDaemon(t, path.join(dir, 'repos'));
  return { dir, repo, daemon, lib, theme, svc, layout: layoutOf(path.join(dir, 'state')) };
}

describe('service submodules', () => {
  test('a nested submodule with relative URLs is checked out at its pinned commits and registered as git does', async (t) => {
    const r = await serviceRepos(t);
    const checkout = await checkoutService({
      repo: r.daemon.url('svc'),
      ref: 'main',
      layout: r.layout,
      logger: memoryLogger(),
      submodules: true,
    });
    assert.equal(checkout.commit, r.svc);
    assert.deepEqual(checkout.submodules, [
      { path: 'theme', commit: r.theme, url: r.daemon.url('theme') },
      { path: 'theme/vendor/lib', commit: r.lib, url: r.daemon.url('lib') },
    ]);
    const dir = checkout.dir;
    assert.equal(readFileSync(path.join(dir, 'theme/theme.css'), 'utf8'), 'body { margin: 0 }\n');
    assert.equal(
      readFileSync(path.join(dir, 'theme/vendor/lib/lib.js'), 'utf8'),
      'export const lib = 1;\n',
    );
    // git knows them: checked out at the pinned commits, their git dirs under .git/modules.
    const status = git(dir, 'submodule', 'status', '--recursive');
    assert.deepEqual(
      // "-SHA" (not checked out) or "+SHA" (another commit) would fail this.
      status.split('\n').map((l) => l.trimStart().replace(/ \(.*\)$/, '')),
      [`${r.theme} theme`, `${r.lib} theme/vendor/lib`],
    );
    assert.ok(existsSync(path.join(dir, '.git/modules/theme/modules/vendor/lib')));
    assert.equal(git(path.join(dir, 'theme'), 'rev-parse', '--is-shallow-repository'), 'true');
    assert.equal(git(dir, 'status', '--porcelain'), '', 'the checkout is clean');

    // A second checkout of the same commit (a restart) reuses it and reports the same submodules.
    const again = await checkoutService({
      repo: r.daemon.url('svc'),
      ref: r.svc,
      layout: r.layout,
      logger: memoryLogger(),
      submodules: true,
    });
    assert.equal(again.cloned, false);
    assert.deepEqual(again.submodules, checkout.submodules);
  });

  test('an unreachable submodule fails the checkout naming it, and leaves nothing behind', async (t) => {
    const r = await serviceRepos(t);
    pinSubmodule(r.repo('svc'), { path: 'extra', url: '../not-there', commit: r.lib });
    commitFiles(r.repo('svc'), {}, 'pin a missing repo');
    await assert.rejects(
      checkoutService({
        repo: r.daemon.url('svc'),
        ref: 'main',
        layout: r.layout,
        logger: memoryLogger(),
        submodules: true,
      }),
      (error: GitstrapError) => {
        assert.match(
          error.message,
          new RegExp(
            `^cannot fetch submodule extra \\(commit ${r.lib.slice(0, 12)}\\) of the service repo from ${r.daemon.url('not-there').replace(/\./g, '\\.')}: `,
          ),
        );
        assert.match(error.hint ?? '', /git ls-remote/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(r.layout.serviceDir), []);
  });

  test("a file:// or another host's URL is refused before anything is fetched; a listed prefix is allowed", async (t) => {
    const r = await serviceRepos(t);
    git(
      r.repo('svc'),
      'config',
      '-f',
      '.gitmodules',
      'submodule.theme.url',
      `file://${r.repo('theme')}`,
    );
    commitFiles(r.repo('svc'), {}, 'file url');
    const base = { repo: r.daemon.url('svc'), ref: 'main', layout: r.layout, submodules: true };
    await assert.rejects(
      checkoutService({ ...base, logger: memoryLogger() }),
      /^GitstrapError: submodule theme \(commit [0-9a-f]{12}\) of the service repo: URL file:\/\/\S+ is not allowed: it is a local path or file:\/\/ URL, which is never fetched/,
    );
    const other = `git://localhost:${r.daemon.port}/theme`;
    git(r.repo('svc'), 'config', '-f', '.gitmodules', 'submodule.theme.url', other);
    commitFiles(r.repo('svc'), {}, 'other host');
    await assert.rejects(
      checkoutService({ ...base, logger: memoryLogger() }),
      (error: GitstrapError) => {
        assert.match(
          error.message,
          /is on another host \(localhost\) than its parent \(127\.0\.0\.1\)/,
        );
        assert.match(error.hint ?? '', /service\.submodule_urls/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(r.layout.serviceDir), []);
    const allowed = await checkoutService({
      ...base,
      logger: memoryLogger(),
      submoduleUrls: [`git://localhost:${r.daemon.port}/`],
    });
    assert.equal(
      readFileSync(path.join(allowed.dir, 'theme/theme.css'), 'utf8'),
      'body { margin: 0 }\n',
    );
  });
});
