// The pure planners, pinned by golden files: the questions to the git host, the fetch, the cache
// configuration, sparse patterns, tar members, signature verification, prune and rollback plans.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  inSparseCone,
  parseLsRemote,
  planFetch,
  planRefQueries,
  planRepoConfig,
  planSparsePatterns,
  sparseReach,
} from '../../data-sync/src/fetch-plan.js';
import {
  lfsEndpoint,
  parseLfsFiles,
  planLfs,
  planLfsConfig,
  planLfsOffConfig,
  routesThroughLfs,
} from '../../data-sync/src/lfs-plan.js';
import {
  describeUrl,
  parseGitlinks,
  parseGitmodules,
  planSubmoduleFetch,
  planSubmodules,
  resolveSubmoduleUrl,
  sharesCredentials,
  submoduleNameProblem,
  submoduleRef,
  submoduleUrlProblem,
  type SubmoduleRefusal,
} from '../../data-sync/src/submodule-plan.js';
import {
  withCurrent,
  withPublish,
  withRollback,
  type Journal,
} from '../../data-sync/src/journal.js';
import { planPrune, planRollback, rankVersions } from '../../data-sync/src/prune-plan.js';
import { planMember } from '../../data-sync/src/member-plan.js';
import { planAllowedSigners, planVerify } from '../../data-sync/src/verify.js';
import { fillArgv } from '../../src/lib/placeholders.js';
import { redactCredentials } from '../../data-sync/src/failure.js';
import { tempDir } from '../helpers/tmp.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';

const GOLDEN = goldenDir('data-sync');

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);
const E = 'e'.repeat(40);

describe('fetch planning (golden)', () => {
  test('ref queries: branches first, then tags; none for a pinned SHA', () => {
    assertGolden(GOLDEN, 'ref-queries', {
      main: planRefQueries('main'),
      'refs/heads/release/1': planRefQueries('refs/heads/release/1'),
      'refs/tags/v1': planRefQueries('refs/tags/v1'),
      'refs/pull/1/head': planRefQueries('refs/pull/1/head'),
      [A]: planRefQueries(A) ?? null,
    });
  });

  test('ls-remote output: exact names only, annotated tags peeled', () => {
    const out = [
      `${A}\trefs/heads/feature/main`,
      `${B}\trefs/heads/main`,
      `${C}\trefs/tags/v1`,
      `${D}\trefs/tags/v1^{}`,
      'garbage line',
    ].join('\n');
    assert.deepEqual(parseLsRemote(out, 'refs/heads/main'), {
      ref: 'refs/heads/main',
      object: B,
      commit: B,
    });
    assert.deepEqual(parseLsRemote(out, 'refs/tags/v1'), {
      ref: 'refs/tags/v1',
      object: C,
      commit: D,
    });
    assert.equal(parseLsRemote(out, 'refs/heads/nope'), undefined);
  });

  test('the fetch: one ref, no tags, depth, unshallow, filter', () => {
    assertGolden(GOLDEN, 'fetch', {
      default: planFetch({ depth: 1, filter: undefined }, { ref: 'refs/heads/main' }, false),
      deeper: planFetch({ depth: 50, filter: undefined }, { ref: 'refs/tags/v1' }, true),
      fullFromShallow: planFetch({ depth: 0, filter: undefined }, { ref: 'refs/heads/main' }, true),
      fullFresh: planFetch({ depth: 0, filter: undefined }, { ref: 'refs/heads/main' }, false),
      pinnedPartial: planFetch({ depth: 1, filter: 'blob:none' }, { commit: A }, false),
    });
  });

  test('cache configuration', () => {
    assertGolden(GOLDEN, 'repo-config', {
      plain: planRepoConfig({
        repo: 'https://example.invalid/d.git',
        filter: undefined,
        sparse: undefined,
      }),
      partialSparse: planRepoConfig({
        repo: 'git@example.invalid:d.git',
        filter: 'blob:none',
        sparse: ['a'],
      }),
    });
  });

  test('sparse patterns match what git sparse-checkout --cone writes', (t) => {
    const cases: string[][] = [['a/b', 'c', 'd/e/f', 'a/x'], ['pages'], ['a', 'a/b'], ['x/y/'], []];
    const golden: Record<string, string> = {};
    for (const paths of cases) {
      const ours = planSparsePatterns(paths);
      golden[paths.join(',') || '(none)'] = ours;
      if (!paths.length) continue;
      const repo = tempDir(t);
      execFileSync('git', ['init', '-q', repo]);
      execFileSync('git', ['sparse-checkout', 'set', '--cone', ...paths], { cwd: repo });
      const theirs = readFileSync(path.join(repo, '.git', 'info', 'sparse-checkout'), 'utf8');
      assert.equal(ours, theirs, paths.join(','));
    }
    assertGolden(GOLDEN, 'sparse', golden);
    assert.equal(planSparsePatterns(['we*ird']), '/*\n!/*/\n/we\\*ird/\n');
  });
});

describe('tar member plans (golden)', () => {
  test('names made safe (strip as GNU tar counts, "." dropped); links checked where they land', () => {
    const members: Array<[string, string, string?]> = [
      ['File', 'top/a.txt'],
      ['File', './top/a.txt'],
      ['File', 'top//sub/./b.txt'],
      ['Directory', 'top/'],
      ['Directory', './'],
      ['File', 'top'],
      ['File', '../x'],
      ['File', 'top/../../x'],
      ['File', '/etc/passwd'],
      ['SymbolicLink', 'top/l', 'a.txt'],
      ['SymbolicLink', 'top/up', '../../x'],
      ['SymbolicLink', 'top/sub/up', '../../x'],
      ['SymbolicLink', 'top/abs', '/etc'],
      ['Link', 'top/h', 'top/a.txt'],
      ['Link', 'top/h2', '../a.txt'],
      ['Link', 'top/h3', 'top'],
      ['CharacterDevice', 'top/null'],
      ['FIFO', 'top/fifo'],
      ['ContiguousFile', 'top/c'],
      ['GNUDumpDir', 'top/dump/'],
      ['File', './GNUSparseFile.1234/top/sparse.img'],
    ];
    const plans: Record<string, unknown> = {};
    for (const [strip, into] of [
      [0, '.'],
      [1, '.'],
      [1, 'out'],
    ] as const) {
      for (const [type, name, linkpath] of members) {
        plans[`strip ${strip} into ${into}: ${type} ${name}${linkpath ? ` -> ${linkpath}` : ''}`] =
          planMember({ path: name, type, linkpath }, strip, into);
      }
    }
    assertGolden(GOLDEN, 'tar-members', plans);
  });
});

describe('other plans (golden)', () => {
  test('verify, allowed signers, placeholders, redaction', () => {
    assertGolden(GOLDEN, 'commands', {
      verify: planVerify(A, '/d/allowed_signers'),
      allowedSigners: planAllowedSigners(['  a@x ssh-ed25519 AAAA ', 'b@x ssh-rsa BBBB']),
      placeholders: fillArgv(['x', '{data}/y', '{port}', '{unknown}', '{data}{data}'], {
        data: '/d',
        port: '8080',
      }),
    });
    assert.equal(
      redactCredentials('fatal: https://user:tok3n@example.invalid/x.git and ssh://git@h/x'),
      'fatal: https://***@example.invalid/x.git and ssh://git@h/x',
    );
  });

  test('prune: keep current and `keep` previous, recycle the newest idle, delete the rest', () => {
    let journal: Journal = { published: [] };
    for (const [i, c] of [A, B, C, D, E].entries()) journal = withPublish(journal, c, `t${i}`);
    const view = { versions: [A, B, C, D, E], current: E, journal, keep: 2, spareExists: false };
    assertGolden(GOLDEN, 'prune', {
      ranked: rankVersions([A, B, C, D, E, '0'.repeat(40)], journal),
      keep2: planPrune(view),
      keep2WithSpare: planPrune({ ...view, spareExists: true }),
      servedIsOld: planPrune({ ...view, current: A, keep: 1 }),
      keepMany: planPrune({ ...view, keep: 10 }),
    });
    for (const keep of [1, 2, 3]) {
      for (const current of [A, C, E]) {
        const plan = planPrune({ ...view, current, keep });
        assert.ok(plan.keep.includes(current), 'the served version is always kept');
        assert.ok(!plan.remove.includes(current) && plan.recycle !== current);
        assert.equal(plan.keep.length, keep + 1);
      }
    }
  });

  test('rollback: the previous kept version, skipping rolled-back and deleted ones', () => {
    let journal: Journal = { published: [] };
    for (const c of [A, B, C, D]) journal = withPublish(journal, c, 't');
    const versions = [A, B, C, D];
    assert.equal(planRollback({ versions, current: D, journal }), C);
    assert.equal(planRollback({ versions: [A, B, D], current: D, journal }), B);
    const rolled = withRollback(journal, D, C, 't');
    assert.equal(rolled.held, D);
    assert.equal(planRollback({ versions, current: C, journal: rolled }), B);
    assert.equal(planRollback({ versions, current: A, journal }), undefined);
    // Republishing D after it was rolled back from puts it last again and releases the hold.
    const again = withPublish(rolled, D, 't2');
    assert.equal(again.held, undefined);
    assert.equal(planRollback({ versions, current: D, journal: again }), C);
    // A crash after the swap, before the journal write: current is added back.
    assert.deepEqual(withCurrent({ published: [] }, A, 't').published, [{ commit: A, at: 't' }]);
  });
});

describe('submodule plans (golden)', () => {
  test('relative URLs resolve as git resolves them (git submodule init is the judge)', (t) => {
    const repo = tempDir(t);
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['update-index', '--add', '--cacheinfo', `160000,${A},s`], { cwd: repo });
    const cases: Array<[string, string]> = [
      ['https://example.com/org/data.git', '../theme.git'],
      ['https://example.com/org/data.git', './sub'],
      ['https://example.com/org/data.git/', '../theme'],
      ['https://example.com/org/data', '../../other/theme'],
      ['https://example.com/data', '../../theme'],
      ['https://example.com/org/data.git', 'https://elsewhere.example/x.git'],
      ['git@example.com:org/data.git', '../theme.git'],
      ['git@example.com:data.git', '../theme.git'],
      ['ssh://git@example.com:2222/org/data.git', '../../theme'],
      ['git://127.0.0.1:9418/data', '../theme'],
      ['git://127.0.0.1:9418/data', './../theme/'],
    ];
    const golden: Record<string, string | null> = {};
    for (const [parent, url] of cases) {
      execFileSync('git', ['config', 'remote.origin.url', parent], { cwd: repo });
      execFileSync('git', ['config', '-f', '.gitmodules', 'submodule.s.path', 's'], { cwd: repo });
      execFileSync('git', ['config', '-f', '.gitmodules', 'submodule.s.url', url], { cwd: repo });
      // git submodule init records the resolved URL once: forget the last case's.
      spawnSync('git', ['config', '--remove-section', 'submodule.s'], { cwd: repo });
      let theirs: string | null;
      try {
        execFileSync('git', ['submodule', 'init', '-q'], { cwd: repo, stdio: 'pipe' });
        theirs = execFileSync('git', ['config', 'submodule.s.url'], { cwd: repo })
          .toString()
          .trim();
      } catch {
        theirs = null;
      }
      const ours = resolveSubmoduleUrl(parent, url) ?? null;
      assert.equal(ours, theirs, `${parent} + ${url}`);
      golden[`${parent} + ${url}`] = ours;
    }
    assertGolden(GOLDEN, 'submodule-urls', golden);
  });

  test("which URLs may be fetched, and which get the parent's credentials", () => {
    const parent = 'https://git.example.com/org/data.git';
    const urls = [
      'https://git.example.com/org/theme.git',
      'https://GIT.example.com:443/org/theme.git',
      'http://git.example.com/org/theme.git',
      'git@git.example.com:org/theme.git',
      'ssh://git@git.example.com/org/theme.git',
      'https://git.example.com:8443/org/theme.git',
      'https://other.example/org/theme.git',
      'https://gitlab.example/acme/lib.git',
      'https://gitlab.example/acmecorp/lib.git',
      'file:///srv/git/theme.git',
      '/srv/git/theme.git',
      './relative/path',
      'ext::sh -c evil',
      'fd::3',
      '-uhelp',
      'https://git.example.com/org/x\ny',
    ];
    const table: Record<string, unknown> = {};
    for (const url of urls) {
      table[url] = {
        kind: describeUrl(url),
        problem: submoduleUrlProblem(url, parent, ['https://gitlab.example/acme']) ?? null,
        credentials: sharesCredentials(url, parent),
      };
    }
    assertGolden(GOLDEN, 'submodule-url-policy', table);
    assert.equal(submoduleNameProblem('theme'), undefined);
    assert.equal(submoduleNameProblem('a/..'), 'it has a ".." path component');
    assert.equal(submoduleNameProblem('..\\x'), 'it has a ".." path component');
    assert.equal(submoduleNameProblem('a..b'), undefined);
    assert.equal(submoduleNameProblem(''), 'it is empty');
  });

  test('the plan: selection, sparse paths, refusals; the fetch argv', () => {
    const gitmodules = parseGitmodules(
      [
        'submodule.theme.path\ntheme',
        'submodule.theme.url\n../theme.git',
        'submodule.vendor.lib.path\nvendor/lib',
        'submodule.vendor.lib.url\nhttps://git.example.com/org/lib.git',
        'submodule.docs.path\ndocs/site',
        'submodule.docs.url\nhttps://other.example/docs.git',
        'core.bare\nfalse',
        '',
      ].join('\0'),
    );
    const gitlinks = parseGitlinks(
      [
        `100644 blob ${A}\tREADME.md`,
        `160000 commit ${B}\ttheme`,
        `160000 commit ${C}\tvendor/lib`,
        `160000 commit ${D}\tdocs/site`,
        '',
      ].join('\0'),
    );
    const base = {
      gitlinks,
      gitmodules,
      parentUrl: 'https://git.example.com/org/data.git',
      allowed: ['https://other.example/'],
      prefix: '',
      what: 'the data repo',
      key: 'data',
    };
    const attempt = (input: Partial<Parameters<typeof planSubmodules>[0]>) => {
      try {
        return planSubmodules({ ...base, selection: true, ...input });
      } catch (error) {
        return { error: (error as Error).message, hint: (error as SubmoduleRefusal).hint };
      }
    };
    assertGolden(GOLDEN, 'submodule-plans', {
      gitmodules,
      gitlinks,
      all: attempt({}),
      listed: attempt({ selection: ['vendor'] }),
      sparse: attempt({ sparse: ['theme', 'vendor/lib/src'] }),
      nested: attempt({ prefix: 'outer', selection: false }),
      notAllowed: attempt({ allowed: [] }),
      listedMissing: attempt({ selection: ['nope'] }),
      noEntry: attempt({ gitmodules: gitmodules.filter((g) => g.name !== 'theme') }),
      badName: attempt({
        gitmodules: [{ name: '../x', path: 'theme', url: '../t' }],
        selection: ['theme'],
      }),
      fetch: planSubmoduleFetch('https://git.example.com/org/theme.git', B, submoduleRef('k'), 1),
      fetchFull: planSubmoduleFetch(
        'https://git.example.com/org/theme.git',
        B,
        submoduleRef('k'),
        0,
      ),
      fetchFallback: planSubmoduleFetch(
        'https://git.example.com/org/theme.git',
        B,
        submoduleRef('k'),
        1,
        true,
      ),
    });
  });

  test('cone-mode reach matches what git checks out', (t) => {
    const repo = tempDir(t);
    execFileSync('git', ['init', '-q', repo]);
    const files = ['top.txt', 'a/x.txt', 'a/b/y.txt', 'a/b/c/z.txt', 'a/d/w.txt', 'e/v.txt'];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(repo, f)), { recursive: true });
      writeFileSync(path.join(repo, f), f);
    }
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 'T',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 'T',
      GIT_COMMITTER_EMAIL: 't@x',
    };
    execFileSync('git', ['add', '-A'], { cwd: repo });
    execFileSync('git', ['commit', '-qm', 'x'], { cwd: repo, env });
    for (const sparse of [['a/b'], ['a/b/c', 'e'], ['a']]) {
      execFileSync('git', ['sparse-checkout', 'set', '--cone', ...sparse], { cwd: repo });
      const theirs = files.filter((f) => existsSync(path.join(repo, f)));
      assert.deepEqual(
        files.filter((f) => inSparseCone(f, sparse)),
        theirs,
        sparse.join(','),
      );
    }
    assert.equal(sparseReach('a', ['a/b']), 'partial');
    assert.equal(sparseReach('a/b/c', ['a/b']), 'all');
    assert.equal(sparseReach('e', ['a/b']), 'none');
    assert.equal(sparseReach('e', undefined), 'all');
  });
});

describe('LFS plans (golden)', () => {
  test('endpoints, cache configuration, pointers split by the sparse paths', () => {
    const pointers = parseLfsFiles(
      JSON.stringify({
        files: [
          { name: 'top.bin', size: 10, oid: 'a'.repeat(64), checkout: false },
          { name: 'a/one.bin', size: 20, oid: 'b'.repeat(64) },
          { name: 'a/b/two.bin', size: 30, oid: 'b'.repeat(64) },
          { name: 'c/three.bin', size: 40, oid: 'c'.repeat(64) },
        ],
      }),
    );
    assertGolden(GOLDEN, 'lfs', {
      endpoints: Object.fromEntries(
        [
          'https://github.com/org/data.git',
          'https://github.com/org/data',
          'https://github.com/org/data/',
          'http://127.0.0.1:8080/data',
          'git@github.com:org/data.git',
          'ssh://git@github.com:2222/org/data.git',
          'git://127.0.0.1:9418/data',
          '/srv/git/data',
          'file:///srv/git/data',
        ].map((u) => [u, lfsEndpoint(u) ?? null]),
      ),
      config: planLfsConfig('https://github.com/org/data.git/info/lfs'),
      off: planLfsOffConfig(),
      all: planLfs(pointers),
      sparseA: planLfs(pointers, ['a']),
      sparseAB: planLfs(pointers, ['a/b']),
    });
    assert.equal(parseLfsFiles('').length, 0);
    assert.throws(() => parseLfsFiles('{"files":[{"name":"x","oid":"../../etc","size":1}]}'));
    assert.equal(routesThroughLfs('*.bin filter=lfs diff=lfs merge=lfs -text\n'), true);
    assert.equal(routesThroughLfs('# *.bin filter=lfs\n*.txt text\n'), false);
  });
});
