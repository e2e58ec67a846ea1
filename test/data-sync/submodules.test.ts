// Submodules of a data repo (data.submodules) against real git: repos behind `git daemon` (and git
// smart HTTP for credentials) on 127.0.0.1, pinned with relative and absolute URLs, nested.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { tokenGitEnv, authorizationHeader } from '../../src/agent/auth/token.js';
import { parseRecipe } from '../../src/recipe/load.js';
import {
  commitFiles,
  git,
  makeRepo,
  pinSubmodule,
  startGitDaemon,
  writeFiles,
} from '../helpers/git.js';
import { startGitLfsServer } from '../helpers/git-lfs-server.js';
import { tempDir } from '../helpers/tmp.js';
import {
  assertTree,
  dataConfig,
  makeEngine,
  servedCommit,
  versionsIn,
  type TestEngine,
} from './support.js';

type T = Parameters<typeof tempDir>[0];

/** lib, theme (pins lib at vendor/lib as ../lib) and data (pins theme as ../theme), on git daemon. */
async function nestedRepos(t: T) {
  const base = tempDir(t, 'gitstrap-submodules-');
  const dir = (name: string) => path.join(base, name);
  const lib = makeRepo(dir('lib'), { 'lib.js': 'lib v1\n' });
  makeRepo(dir('theme'), { 'style.css': 'body { color: black }\n' });
  pinSubmodule(dir('theme'), { path: 'vendor/lib', url: '../lib', commit: lib });
  const theme = commitFiles(dir('theme'), {}, 'pin lib');
  makeRepo(dir('data'), { 'index.json': '{"generation":1}\n' });
  pinSubmodule(dir('data'), { path: 'theme', url: '../theme', commit: theme });
  const data = commitFiles(dir('data'), {}, 'pin theme');
  const daemon = await startGitDaemon(t, base);
  return { base, dir, daemon, lib, theme, data };
}

/** The submodule fetches an engine ran: [url, refspec, shallow?]. */
function submoduleFetches(engine: TestEngine): Array<{ url: string; shallow: boolean }> {
  return engine.exec.calls
    .filter(
      (c) =>
        c.includes('fetch') &&
        c.includes('--') &&
        c.some((a) => a.includes('refs/gitstrap/modules/')),
    )
    .map((c) => ({ url: c[c.indexOf('--') + 1]!, shallow: c.includes('--depth=1') }));
}

describe('data submodules', () => {
  test('a nested submodule with relative URLs is fetched at its pinned commits, shallow, and published with its parent (no .git in it)', async (t) => {
    const r = await nestedRepos(t);
    const engine = makeEngine(t, dataConfig({ repo: r.daemon.url('data'), submodules: true }));
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    assert.equal(result.commit, r.data);
    const version = path.join(engine.dir, 'versions', r.data);
    const gitmodules = (repo: string) => git(repo, 'show', 'HEAD:.gitmodules') + '\n';
    const expected = new Map<string, string>([
      ['index.json', '{"generation":1}\n'],
      ['.gitmodules', gitmodules(r.dir('data'))],
      ['theme/style.css', 'body { color: black }\n'],
      ['theme/.gitmodules', gitmodules(r.dir('theme'))],
      ['theme/vendor/lib/lib.js', 'lib v1\n'],
    ]);
    assertTree(version, expected);
    assert.equal(readFileSyncText(version, 'theme/vendor/lib/lib.js'), 'lib v1\n');
    const submodules = [
      { path: 'theme', commit: r.theme, url: r.daemon.url('theme') },
      { path: 'theme/vendor/lib', commit: r.lib, url: r.daemon.url('lib') },
    ];
    assert.deepEqual(result.submodules, submodules);
    assert.deepEqual(engine.sync.current()?.submodules, submodules);
    assert.deepEqual(submoduleFetches(engine), [
      { url: r.daemon.url('theme'), shallow: true },
      { url: r.daemon.url('lib'), shallow: true },
    ]);
    const cache = path.join(engine.dir, 'repo.git');
    assert.equal(
      git(cache, 'rev-list', '--count', r.theme),
      '1',
      'the submodule fetch was shallow',
    );
  });

  test('a submodule moved to a new commit is published atomically with its parent; the one that did not move is not fetched again', async (t) => {
    const r = await nestedRepos(t);
    writeGeneration(r, 1);
    const engine = makeEngine(
      t,
      dataConfig({ repo: r.daemon.url('data'), submodules: true, keep: 1 }),
    );
    assert.equal((await engine.sync.sync('startup')).outcome, 'published');
    const first = servedCommit(engine.dir)!;

    // Both the parent and its submodule say which generation they are: a reader must never see two.
    const seen: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const dir = await realpath(path.join(engine.dir, 'current'));
        const [parent, theme] = await Promise.all([
          readFile(path.join(dir, 'generation.txt'), 'utf8'),
          readFile(path.join(dir, 'theme', 'generation.txt'), 'utf8'),
        ]);
        seen.push(`${parent.trim()}/${theme.trim()}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const next = writeGeneration(r, 2);
    engine.exec.calls.length = 0;
    const result = await engine.sync.sync('manual');
    await new Promise((resolve) => setTimeout(resolve, 50));
    reading = false;
    await reader;
    assert.equal(result.outcome, 'published', result.error);
    assert.equal(result.commit, next.data);
    assert.deepEqual(
      result.submodules?.map((m) => `${m.path}@${m.commit}`),
      [`theme@${next.theme}`, `theme/vendor/lib@${r.lib}`],
    );
    assert.deepEqual(submoduleFetches(engine), [{ url: r.daemon.url('theme'), shallow: true }]);
    assert.ok(
      seen.includes('1/1') && seen.includes('2/2'),
      `reads saw both versions: ${seen.length}`,
    );
    assert.deepEqual([...new Set(seen)].sort(), ['1/1', '2/2'], 'no read mixed two versions');
    // The earlier version is kept as it was.
    const kept = path.join(engine.dir, 'versions', first, 'theme', 'generation.txt');
    assert.equal(readFileSyncText(kept, ''), '1\n');
  });

  test('an unreachable submodule: nothing is published, and the error names it and its URL', async (t) => {
    const r = await nestedRepos(t);
    const engine = makeEngine(t, dataConfig({ repo: r.daemon.url('data'), submodules: true }));
    assert.equal((await engine.sync.sync('startup')).outcome, 'published');
    // A second submodule whose repo the host does not have (at a commit the cache has not seen: a
    // commit it has is placed without asking, as git submodule update does).
    const unseen = commitFiles(r.dir('lib'), { 'lib.js': 'lib v2\n' });
    pinSubmodule(r.dir('data'), { path: 'extra', url: '../not-there', commit: unseen });
    const broken = commitFiles(r.dir('data'), { 'index.json': '{"generation":2}\n' });
    const result = await engine.sync.sync('manual');
    assert.equal(result.outcome, 'failed');
    assert.equal(result.phase, 'submodules');
    assert.match(
      result.error ?? '',
      new RegExp(
        `^cannot fetch submodule extra \\(commit ${unseen.slice(0, 12)}\\) from ${escape(r.daemon.url('not-there'))}: git fetch failed`,
      ),
    );
    assert.match(result.hint ?? '', /pushed to its repo/);
    assert.equal(servedCommit(engine.dir), r.data, 'the earlier version is still served');
    assert.deepEqual(versionsIn(engine.dir), [r.data]);
    assert.ok(!versionsIn(engine.dir).includes(broken));

    // A commit the submodule's repo does not have (pinned but never pushed): the same.
    git(r.dir('data'), 'rm', '-q', '--cached', 'extra');
    git(r.dir('data'), 'config', '-f', '.gitmodules', '--remove-section', 'submodule.extra');
    pinSubmodule(r.dir('data'), { path: 'theme', url: '../theme', commit: 'f'.repeat(40) });
    commitFiles(r.dir('data'), {}, 'unpushed');
    const unpushed = await engine.sync.sync('manual');
    assert.equal(unpushed.outcome, 'failed');
    assert.match(
      unpushed.error ?? '',
      /^submodule theme: commit f{40} is not in git:\/\/127\.0\.0\.1:\d+\/theme \(no branch or tag reaches it\)$/,
    );
    assert.equal(servedCommit(engine.dir), r.data);
  });

  test('URLs the recipe does not allow are refused before anything is fetched; submodule_urls allows another host', async (t) => {
    const r = await nestedRepos(t);
    const port = r.daemon.port;
    const cases: Array<{ url: string; name?: string; error: RegExp }> = [
      {
        url: `file://${r.dir('lib')}`,
        error: /is a local path or file:\/\/ URL, which is never fetched/,
      },
      { url: r.dir('lib'), error: /is a local path or file:\/\/ URL/ },
      {
        url: `git://localhost:${port}/lib`,
        error: /is on another host \(localhost\) than its parent \(127\.0\.0\.1\)/,
      },
      { url: 'ext::true', error: /its transport ext:: is not allowed/ },
      {
        url: '../lib',
        name: '../../escape',
        error: /its name "\.\.\/\.\.\/escape" is refused: it has a "\.\." path component/,
      },
    ];
    for (const c of cases) {
      setGitmodules(r.dir('data'), [{ name: c.name ?? 'theme', path: 'theme', url: c.url }]);
      commitFiles(r.dir('data'), {}, `url ${c.url}`);
      const engine = makeEngine(t, dataConfig({ repo: r.daemon.url('data'), submodules: true }));
      const result = await engine.sync.sync('startup');
      assert.equal(result.outcome, 'failed', c.url);
      assert.equal(result.phase, 'submodules');
      assert.match(
        result.error ?? '',
        /^submodule theme \(commit [0-9a-f]{12}\) of the data repo: /,
      );
      assert.match(result.error ?? '', c.error);
      assert.deepEqual(submoduleFetches(engine), [], 'nothing fetched');
      assert.equal(servedCommit(engine.dir), undefined);
    }
    // Another host, listed in submodule_urls: fetched (without the data repo's credentials).
    setGitmodules(r.dir('data'), [
      { name: 'theme', path: 'theme', url: `git://localhost:${port}/lib` },
    ]);
    git(r.dir('data'), 'update-index', '--cacheinfo', `160000,${r.lib},theme`);
    const allowed = commitFiles(r.dir('data'), {}, 'allowed host');
    const engine = makeEngine(
      t,
      dataConfig({
        repo: r.daemon.url('data'),
        submodules: true,
        submodule_urls: [`git://localhost:${port}/`],
      }),
    );
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    assert.equal(result.commit, allowed);
    assert.equal(readFileSyncText(path.join(engine.dir, 'current'), 'theme/lib.js'), 'lib v1\n');
  });

  test('a listed path, or the sparse paths, leave other submodules unfetched', async (t) => {
    const r = await nestedRepos(t);
    pinSubmodule(r.dir('data'), { path: 'other/lib', url: '../lib', commit: r.lib });
    commitFiles(r.dir('data'), { 'other/readme.txt': 'x\n' }, 'another submodule');
    const listed = makeEngine(t, dataConfig({ repo: r.daemon.url('data'), submodules: ['other'] }));
    const a = await listed.sync.sync('startup');
    assert.equal(a.outcome, 'published', a.error);
    assert.deepEqual(
      a.submodules?.map((m) => m.path),
      ['other/lib'],
    );
    assert.deepEqual(submoduleFetches(listed), [{ url: r.daemon.url('lib'), shallow: true }]);

    const sparse = makeEngine(
      t,
      dataConfig({ repo: r.daemon.url('data'), submodules: true, sparse: ['theme'] }),
    );
    const b = await sparse.sync.sync('startup');
    assert.equal(b.outcome, 'published', b.error);
    assert.deepEqual(
      b.submodules?.map((m) => m.path),
      ['theme', 'theme/vendor/lib'],
    );
    assert.ok(
      !submoduleFetches(sparse).some(
        (f) => f.url.endsWith('/lib') && f.url !== r.daemon.url('lib'),
      ),
    );
    assert.equal(submoduleFetches(sparse).length, 2, 'theme and its lib, not other/lib');

    const wrong = makeEngine(t, dataConfig({ repo: r.daemon.url('data'), submodules: ['nope'] }));
    const c = await wrong.sync.sync('startup');
    assert.equal(c.outcome, 'failed');
    assert.match(
      c.error ?? '',
      /^data\.submodules lists nope, but the data repo has no submodule there at this commit \(it has: other\/lib, theme\)/,
    );
  });

  test("the data repo's credentials go to its own scheme, host and port only", async (t) => {
    const base = tempDir(t, 'gitstrap-submodule-auth-');
    const token = 'data-token-0123456789';
    const header = authorizationHeader(token).replace(/^Authorization: /, '');
    const privateHost = await startGitLfsServer(t, path.join(base, 'private'), {
      authorization: header,
    });
    const otherHost = await startGitLfsServer(t, path.join(base, 'public'));
    const lib = makeRepo(path.join(base, 'public', 'lib'), { 'lib.js': 'public lib\n' });
    const theme = makeRepo(path.join(base, 'private', 'theme'), { 'style.css': 'private theme\n' });
    const data = path.join(base, 'private', 'data');
    makeRepo(data, { 'index.json': '{}\n' });
    pinSubmodule(data, { path: 'theme', url: '../theme', commit: theme });
    pinSubmodule(data, { path: 'lib', url: otherHost.url('lib'), commit: lib });
    commitFiles(data, {}, 'two submodules');
    const engine = makeEngine(
      t,
      dataConfig({
        repo: privateHost.url('data'),
        submodules: true,
        submodule_urls: [`${otherHost.url('')}`],
      }),
      { gitEnv: tokenGitEnv(token) },
    );
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    assert.equal(
      readFileSyncText(path.join(engine.dir, 'current'), 'theme/style.css'),
      'private theme\n',
    );
    assert.equal(readFileSyncText(path.join(engine.dir, 'current'), 'lib/lib.js'), 'public lib\n');
    assert.ok(
      privateHost.requests.some((q) => q.path === '/theme/git-upload-pack' && q.status === 200),
    );
    assert.ok(otherHost.requests.length > 0);
    assert.deepEqual(
      otherHost.requests.filter((q) => q.authorization !== undefined),
      [],
      'the token never went to the other host',
    );
  });
});

function readFileSyncText(dir: string, rel: string): string {
  return readFileSync(rel ? path.join(dir, rel) : dir, 'utf8');
}

function writeGeneration(r: Awaited<ReturnType<typeof nestedRepos>>, n: number) {
  const theme = commitFiles(r.dir('theme'), { 'generation.txt': `${n}\n` }, `theme ${n}`);
  git(r.dir('data'), 'update-index', '--cacheinfo', `160000,${theme},theme`);
  const data = commitFiles(r.dir('data'), { 'generation.txt': `${n}\n` }, `data ${n}`);
  return { theme, data };
}

/** Rewrites the .gitmodules of a working repo (staged; the next commitFiles commits it). */
function setGitmodules(dir: string, entries: Array<{ name: string; path: string; url: string }>) {
  writeFiles(dir, {
    '.gitmodules': entries
      .map((e) => `[submodule "${e.name}"]\n\tpath = ${e.path}\n\turl = ${e.url}\n`)
      .join(''),
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('submodule and LFS keys in a recipe', () => {
  const recipe = (data: string) =>
    parseRecipe(
      `name: keys\nservice: { repo: https://h.example/s.git, runtime: static }\ndata: { repo: https://h.example/d.git, mount: d, ${data} }\n`,
      'r.yaml',
    );
  test('take true, paths, URL prefixes and lfs; refuse what cannot work, with the key', () => {
    assert.deepEqual(
      recipe('submodules: [theme], submodule_urls: ["https://gitlab.example/acme/"], lfs: true')
        .problems,
      [],
    );
    const problems = (data: string) =>
      recipe(data).problems.map((p) => `${p.path.join('.')}: ${p.message}`);
    assert.deepEqual(problems('submodule_urls: ["https://gitlab.example/"]'), [
      'data.submodule_urls: data.submodule_urls applies only when data.submodules fetches submodules',
    ]);
    assert.deepEqual(problems('submodules: [theme, docs/site], sparse: [docs]'), [
      'data.submodules.0: submodule path theme is outside data.sparse (docs): it would never be checked out',
    ]);
    assert.match(
      problems('submodules: true, submodule_urls: ["/srv/git/"]').join('\n'),
      /^data\.submodule_urls\.0: expected a URL prefix with a scheme and host/,
    );
    assert.match(problems('submodules: [../up]').join('\n'), /must not contain "\.\." segments/);
  });
});
