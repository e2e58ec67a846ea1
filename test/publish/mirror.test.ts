// The static data source end to end: `bootstrap publish` (publishFolder) writes the mirror
// (publish.mirror), real nginx serves that folder on 127.0.0.1, and the data-sync engine reads it
// (data.source.static) with real git. An unchanged poll is a 304 and runs no git; a new version comes
// as one bundle (incremental from the served commit when offered); a bundle altered after publish, a
// pointer naming a commit its bundle does not hold, and a half-uploaded mirror are refused, with the
// served version kept.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { memoryLogger } from '../../src/lib/log.js';
import { publishFolder } from '../../src/publish/publish.js';
import { publish as publishSchema } from '../../src/recipe/schema.js';
import { runCli } from '../helpers/cli.js';
import { git, makeRepo, startGitDaemon, writeFiles } from '../helpers/git.js';
import { waitFor } from '../helpers/proc.js';
import { get, startAgent, writeRecipe, type RunningAgent } from '../agent/harness.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { tempDir } from '../helpers/tmp.js';
import {
  assertTree,
  dataConfig,
  gitSubcommands,
  makeEngine,
  servedCommit,
  type TestEngine,
} from '../data-sync/support.js';

const POINTER = 'gitstrap-data.json';

interface Pointer {
  commit: string;
  ref: string;
  bundles: Array<{ file: string; from?: string; size: number; sha256: string }>;
}

/** An empty bare data repo (main), a mirror folder served by nginx, a publisher. */
async function setUp(t: TestContext) {
  const dir = tempDir(t, 'gitstrap-mirror-');
  const bare = path.join(dir, 'data.git');
  git(dir, 'init', '-q', '--bare', '-b', 'main', bare);
  const mirror = path.join(dir, 'mirror');
  const folder = path.join(dir, 'results');
  const nginx = await startNginx(t, mirror);
  const data = dataConfig({ repo: bare, ref: 'main', source: { static: nginx.url } });
  const recipe = {
    name: 'mirror-test',
    data,
    publish: publishSchema.parse({ mirror }),
  };
  const publish = async (files: Record<string, string>) => {
    rmSync(folder, { recursive: true, force: true });
    writeFiles(folder, files);
    const result = await publishFolder({
      stateDir: path.join(dir, 'publisher'),
      recipe,
      from: folder,
      logger: memoryLogger(),
    });
    return result;
  };
  return { dir, bare, mirror, nginx, data, publish };
}

function pointerOf(mirror: string): Pointer {
  return JSON.parse(readFileSync(path.join(mirror, POINTER), 'utf8')) as Pointer;
}

function bundlesIn(mirror: string): string[] {
  return readdirSync(path.join(mirror, 'bundles')).sort();
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The git subcommands an engine ran since `from` calls. */
function gitSince(engine: TestEngine, from: number): string[] {
  return gitSubcommands(engine.exec.calls.slice(from));
}

/**
 * nginx's requests in order (method path status, and If-None-Match as logged): `next(n)` waits
 * for the next n lines (nginx logs a request after its answer is sent, so a client may be ahead).
 */
function requestLog(nginx: Nginx) {
  let seen = 0;
  return {
    async next(count: number): Promise<string[]> {
      const lines = await waitFor(async () => {
        const all = nginx.requests();
        return all.length >= seen + count ? all.slice(seen, seen + count) : undefined;
      }, `${count} more requests in nginx's log`);
      seen += count;
      return lines;
    },
  };
}

/** A logged request without its If-None-Match. */
const asked = (lines: string[]) => lines.map((l) => l.replace(/ "[^"]*"$/, ''));

function version(n: number): Record<string, string> {
  const files: Record<string, string> = { 'version.txt': `v${n}\n` };
  for (let i = 1; i <= n; i++) files[`days/day-${i}.lst`] = `smoke ${i}\n`;
  return files;
}

describe('the static data source (publish.mirror → nginx → data.source.static)', () => {
  test('publish writes bundles and the pointer; the agent syncs through nginx; an unchanged poll is a 304 with no git; the next version comes as an incremental bundle', async (t) => {
    const s = await setUp(t);
    const v1 = await s.publish(version(1));
    assert.equal(v1.outcome, 'published');
    assert.equal(v1.mirror?.updated, true);
    const p1 = pointerOf(s.mirror);
    assert.equal(p1.commit, v1.commit);
    assert.equal(p1.commit, git(s.bare, 'rev-parse', 'main').trim());
    assert.equal(p1.ref, 'refs/heads/main');
    assert.deepEqual(
      p1.bundles.map((b) => b.file),
      [`bundles/${v1.commit}.bundle`],
    );
    for (const b of p1.bundles) assert.equal(sha256(path.join(s.mirror, b.file)), b.sha256);
    // The full bundle holds the commit alone: no prerequisites.
    const header = readFileSync(path.join(s.mirror, p1.bundles[0]!.file))
      .toString('latin1')
      .split('\n\n')[0]!;
    assert.equal(header, `# v2 git bundle\n${v1.commit} refs/heads/main`);

    const log = requestLog(s.nginx);
    const agent = makeEngine(t, s.data);
    const first = await agent.sync.sync('startup');
    assert.equal(first.outcome, 'published', first.error);
    assert.deepEqual(asked(await log.next(2)), [
      `GET /mirror/${POINTER} 200`,
      `GET /mirror/bundles/${v1.commit}.bundle 200`,
    ]);
    assert.equal(servedCommit(agent.dir), v1.commit);
    assertTree(path.join(agent.dir, 'current'), new Map(Object.entries(version(1))));
    assert.ok(
      !gitSince(agent, 0).includes('ls-remote'),
      'the git host is never asked: the mirror is',
    );

    // Unchanged: a conditional GET answered 304, and no git process at all.
    const calls = agent.exec.calls.length;
    const second = await agent.sync.sync('schedule');
    assert.equal(second.outcome, 'unchanged', second.error);
    assert.deepEqual(agent.exec.calls.slice(calls), [], 'no process started');
    const conditional = await log.next(1);
    assert.deepEqual(asked(conditional), [`GET /mirror/${POINTER} 304`]);
    assert.doesNotMatch(conditional[0]!, / "-"$/, 'it sent If-None-Match');

    // A restarted agent (a new engine on the same folder) remembers the ETag on disk.
    const restarted = makeEngine(t, s.data, { dir: agent.dir });
    const third = await restarted.sync.sync('startup');
    assert.equal(third.outcome, 'unchanged', third.error);
    assert.deepEqual(restarted.exec.calls, []);
    assert.deepEqual(asked(await log.next(1)), [`GET /mirror/${POINTER} 304`]);

    // v2: the pointer offers an incremental bundle from v1; the agent downloads that one only.
    const v2 = await s.publish(version(2));
    assert.equal(v2.outcome, 'published');
    const p2 = pointerOf(s.mirror);
    assert.deepEqual(
      p2.bundles.map((b) => [b.file, b.from]),
      [
        [`bundles/${v2.commit}.bundle`, undefined],
        [`bundles/${v1.commit}-${v2.commit}.bundle`, v1.commit],
      ],
    );
    const fourth = await restarted.sync.sync('schedule');
    assert.equal(fourth.outcome, 'published', fourth.error);
    assert.equal(servedCommit(agent.dir), v2.commit);
    assertTree(path.join(agent.dir, 'current'), new Map(Object.entries(version(2))));
    assert.deepEqual(asked(await log.next(2)), [
      `GET /mirror/${POINTER} 200`,
      `GET /mirror/bundles/${v1.commit}-${v2.commit}.bundle 200`,
    ]);

    // A new agent has nothing: it takes the full bundle.
    const fresh = makeEngine(t, s.data);
    const cold = await fresh.sync.sync('startup');
    assert.equal(cold.outcome, 'published', cold.error);
    assert.equal(servedCommit(fresh.dir), v2.commit);
    assertTree(path.join(fresh.dir, 'current'), new Map(Object.entries(version(2))));
    assert.deepEqual(asked(await log.next(2)), [
      `GET /mirror/${POINTER} 200`,
      `GET /mirror/bundles/${v2.commit}.bundle 200`,
    ]);

    // v3: the mirror keeps v2's bundles (an agent may be downloading them) and drops v1's.
    const v3 = await s.publish(version(3));
    assert.deepEqual(
      bundlesIn(s.mirror),
      [
        `${v1.commit}-${v2.commit}.bundle`,
        `${v2.commit}-${v3.commit}.bundle`,
        `${v2.commit}.bundle`,
        `${v3.commit}.bundle`,
      ].sort(),
    );
    // An unchanged publish leaves the mirror as it is.
    const again = await s.publish(version(3));
    assert.equal(again.outcome, 'unchanged');
    assert.equal(again.mirror?.updated, false);
    const v3sync = await fresh.sync.sync('schedule');
    assert.equal(v3sync.outcome, 'published', v3sync.error);
    assert.equal(servedCommit(fresh.dir), v3.commit);
  });

  test('a bundle altered after publish is refused before git sees it; the served version stays', async (t) => {
    const s = await setUp(t);
    const v1 = await s.publish(version(1));
    const log = requestLog(s.nginx);
    const agent = makeEngine(t, s.data);
    assert.equal((await agent.sync.sync('startup')).outcome, 'published');
    await log.next(2);
    const v2 = await s.publish(version(2));
    for (const b of pointerOf(s.mirror).bundles) {
      const file = path.join(s.mirror, b.file);
      const bytes = readFileSync(file);
      bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
      writeFileSync(file, bytes);
    }
    const calls = agent.exec.calls.length;
    const r = await agent.sync.sync('schedule');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'fetch');
    assert.match(
      r.error!,
      new RegExp(
        `^http://127\\.0\\.0\\.1:\\d+/mirror/bundles/${v1.commit}-${v2.commit}\\.bundle does not match the pointer \\(\\d+ bytes, sha256 [0-9a-f]{16}…; the pointer says \\d+ bytes, sha256 [0-9a-f]{16}…\\): not published$`,
      ),
    );
    assert.deepEqual(
      gitSince(agent, calls).filter((c) => c === 'fetch'),
      [],
      'no git fetch from it',
    );
    assert.equal(servedCommit(agent.dir), v1.commit);
    assertTree(path.join(agent.dir, 'current'), new Map(Object.entries(version(1))));
    // The ETag of a pointer whose sync failed is not kept: the next poll asks the same question
    // (If-None-Match: v1's ETag) and gets the pointer in full again.
    const bundle = `GET /mirror/bundles/${v1.commit}-${v2.commit}.bundle 200`;
    const firstTry = await log.next(2);
    assert.deepEqual(asked(firstTry), [`GET /mirror/${POINTER} 200`, bundle]);
    assert.doesNotMatch(firstTry[0]!, / "-"$/);
    assert.equal((await agent.sync.sync('schedule')).outcome, 'failed');
    assert.deepEqual(await log.next(2), firstTry);
  });

  test('a pointer naming a commit its bundle does not hold is refused; so is a bundle whose header lies (git checks the pack)', async (t) => {
    const s = await setUp(t);
    const v1 = await s.publish(version(1));
    const agent = makeEngine(t, s.data);
    assert.equal((await agent.sync.sync('startup')).outcome, 'published');
    const v2 = await s.publish(version(2));
    const fake = 'f'.repeat(40);
    const writePointer = (bundle: string) => {
      const file = `bundles/${fake}.bundle`;
      writeFileSync(path.join(s.mirror, file), Buffer.from(bundle, 'latin1'));
      const pointer = pointerOf(s.mirror);
      writeFileSync(
        path.join(s.mirror, POINTER),
        JSON.stringify({
          ...pointer,
          commit: fake,
          bundles: [{ file, size: Buffer.byteLength(bundle, 'latin1'), sha256: sha(bundle) }],
        }),
      );
    };
    const sha = (text: string) => createHash('sha256').update(text, 'latin1').digest('hex');
    const real = readFileSync(path.join(s.mirror, `bundles/${v2.commit}.bundle`)).toString(
      'latin1',
    );

    // The real v2 bundle under a pointer that names another commit.
    writePointer(real);
    const named = await agent.sync.sync('schedule');
    assert.equal(named.outcome, 'failed');
    assert.match(
      named.error!,
      new RegExp(
        `/mirror/bundles/${fake}\\.bundle holds ${v2.commit.slice(0, 12)}, not ${fake.slice(0, 12)} that the pointer names: not published$`,
      ),
    );
    assert.equal(servedCommit(agent.dir), v1.commit);

    // The same bundle with its header saying `fake`: the pack does not hold it, git refuses.
    writePointer(real.replace(v2.commit, fake));
    const lied = await agent.sync.sync('schedule');
    assert.equal(lied.outcome, 'failed');
    assert.equal(lied.phase, 'fetch');
    assert.match(lied.error!, new RegExp(`git fetch from .*/bundles/${fake}\\.bundle failed`));
    assert.equal(servedCommit(agent.dir), v1.commit);
    assertTree(path.join(agent.dir, 'current'), new Map(Object.entries(version(1))));
    // The cache's shallow list is as it was (the refused commit is not left in it).
    assert.ok(!readFileSync(path.join(agent.dir, 'repo.git', 'shallow'), 'utf8').includes(fake));

    // The publisher puts the mirror right again; the agent then takes v2.
    const fixed = await s.publish(version(2));
    assert.equal(fixed.outcome, 'unchanged');
    assert.equal(fixed.mirror?.updated, true);
    const r = await agent.sync.sync('schedule');
    assert.equal(r.outcome, 'published', r.error);
    assert.equal(servedCommit(agent.dir), v2.commit);
  });

  test('a half-uploaded mirror (pointer there, its bundles not yet) is a clear failure; the served version stays', async (t) => {
    const s = await setUp(t);
    const v1 = await s.publish(version(1));
    const agent = makeEngine(t, s.data);
    assert.equal((await agent.sync.sync('startup')).outcome, 'published');
    const v2 = await s.publish(version(2));
    for (const b of pointerOf(s.mirror).bundles) rmSync(path.join(s.mirror, b.file));
    const r = await agent.sync.sync('schedule');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'fetch');
    assert.match(
      r.error!,
      new RegExp(
        `^http://127\\.0\\.0\\.1:\\d+/mirror/bundles/${v1.commit}-${v2.commit}\\.bundle answered HTTP 404 Not Found$`,
      ),
    );
    assert.match(r.hint!, /half-uploaded: upload the bundles before gitstrap-data\.json/);
    assert.equal(servedCommit(agent.dir), v1.commit);

    // No mirror at all (nothing uploaded yet): the pointer's 404, named.
    const empty = makeEngine(
      t,
      dataConfig({ ...s.data, source: { static: `${s.nginx.url}nothing/` } }),
    );
    const none = await empty.sync.sync('startup');
    assert.equal(none.outcome, 'failed');
    assert.match(
      none.error!,
      /\/mirror\/nothing\/gitstrap-data\.json answered HTTP 404 Not Found$/,
    );
    assert.match(none.hint!, /check data\.source\.static/);

    // Once the upload completes (here: the publisher rewrites the bundles), the agent takes v2.
    assert.equal((await s.publish(version(2))).mirror?.updated, true);
    const after = await agent.sync.sync('schedule');
    assert.equal(after.outcome, 'published', after.error);
    assert.equal(servedCommit(agent.dir), v2.commit);
  });

  test('sizes: a bundle over data.limits.max_bytes is not downloaded; one longer than the pointer says is cut off', async (t) => {
    const s = await setUp(t);
    const v1 = await s.publish(version(1));
    const log = requestLog(s.nginx);
    const small = makeEngine(t, dataConfig({ ...s.data, limits: { max_bytes: '100b' } }));
    const r = await small.sync.sync('startup');
    assert.equal(r.outcome, 'failed');
    assert.match(
      r.error!,
      new RegExp(
        `/mirror/bundles/${v1.commit}\\.bundle is \\d+ bytes, over data\\.limits\\.max_bytes \\(100b\\)$`,
      ),
    );
    assert.deepEqual(asked(await log.next(1)), [`GET /mirror/${POINTER} 200`]);

    const file = path.join(s.mirror, `bundles/${v1.commit}.bundle`);
    writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.alloc(4096)]));
    const agent = makeEngine(t, s.data);
    const long = await agent.sync.sync('startup');
    assert.equal(long.outcome, 'failed');
    assert.match(
      long.error!,
      new RegExp(
        `^cannot read .*/mirror/bundles/${v1.commit}\\.bundle: it is larger than \\d+ bytes$`,
      ),
    );
    assert.equal(servedCommit(agent.dir), undefined);
  });

  test('data.verify applies to the static source as to git: an unsigned commit from the mirror is not published', async (t) => {
    const s = await setUp(t);
    const v1 = await s.publish(version(1));
    const key = path.join(s.dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'qa', '-f', key]);
    const allowed = `qa@example.invalid ${readFileSync(`${key}.pub`, 'utf8').trim()}`;
    const agent = makeEngine(t, dataConfig({ ...s.data, verify: { allowed_signers: [allowed] } }));
    const r = await agent.sync.sync('startup');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'verify');
    assert.equal(servedCommit(agent.dir), undefined);
    assert.ok(gitSubcommands(agent.exec.calls).includes('verify-commit'));
    assert.equal(pointerOf(s.mirror).commit, v1.commit);
  });

  test('real agents (bootstrap run) follow the mirror that bootstrap publish writes: every one serves the new version, with no error answer', async (t) => {
    const dir = tempDir(t, 'gitstrap-mirror-agents-');
    const repos = path.join(dir, 'repos');
    makeRepo(path.join(repos, 'service'), { 'index.html': 'qa\n' });
    const bare = path.join(repos, 'data.git');
    git(dir, 'init', '-q', '--bare', '-b', 'master', bare);
    // The service comes from git daemon; the data repo is never asked by the agents, only the mirror.
    const daemon = await startGitDaemon(t, repos);
    const mirror = path.join(dir, 'mirror');
    const nginx = await startNginx(t, mirror);
    const folder = path.join(dir, 'results');
    const recipe = {
      name: 'qa-mirror',
      service: { repo: daemon.url('service'), runtime: 'static' },
      data: {
        repo: bare,
        ref: 'master',
        mount: 'webcache',
        source: { static: nginx.url },
        schedule: '* * * * * *',
        jitter: '0s',
      },
      publish: { mirror },
    };
    const { file } = await writeRecipe(dir, recipe);
    const publish = async (n: number) => {
      rmSync(folder, { recursive: true, force: true });
      writeFiles(folder, version(n));
      const r = await runCli([
        'publish',
        '--recipe',
        file,
        '--from',
        folder,
        '--root',
        path.join(dir, 'publisher'),
        '--once',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /\n {2}mirror: .* now names [0-9a-f]{12} \(bundles\//);
      return git(bare, 'rev-parse', 'master').trim();
    };
    await publish(1);
    const agents = await Promise.all(
      [0, 1].map((i) => startAgent(t, dir, recipe, { root: path.join(dir, `agent-${i}`) })),
    );
    const serving = (body: string) =>
      waitFor(
        async () => {
          const all = await Promise.all(agents.map((a) => get(`${a.url}/webcache/version.txt`)));
          return all.every((r) => r.status === 200 && r.body === body) ? true : undefined;
        },
        `every agent serving ${body.trim()}`,
        45_000,
      );
    await serving('v1\n');
    // Unchanged polls: the agents ask the pointer with If-None-Match and get 304s.
    await waitFor(
      async () => (nginx.requests().filter((l) => / 304 /.test(l)).length >= 2 ? true : undefined),
      'two 304 answers to the agents',
    );
    let reading = true;
    const errors: string[] = [];
    const bodies = new Set<string>();
    const loop = (async () => {
      while (reading) {
        for (const agent of agents) {
          const r = await get(`${agent.url}/webcache/version.txt`).catch((e: Error) => ({
            status: 0,
            body: e.message,
          }));
          if (r.status === 200) bodies.add(r.body);
          else errors.push(`${agent.port}: ${r.status} ${r.body.slice(0, 80)}`);
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const v2 = await publish(2);
    await serving('v2\n');
    // The reader may be between two reads when serving() sees v2: let it read v2 itself.
    await waitFor(async () => (bodies.has('v2\n') ? true : undefined), 'the reader seeing v2');
    reading = false;
    await loop;
    assert.deepEqual(errors, []);
    assert.deepEqual([...bodies].sort(), ['v1\n', 'v2\n']);
    const failed = (a: RunningAgent) => a.logs().filter((l) => l.event === 'data.sync.failed');
    for (const agent of agents) {
      assert.deepEqual(failed(agent), []);
      assert.ok(agent.logs().some((l) => l.event === 'data.published' && l.commit === v2));
    }
    // Each agent fetched v2 as the incremental bundle from v1.
    const v2bundles = nginx.requests().filter((l) => l.includes(`-${v2}.bundle 200`));
    assert.equal(v2bundles.length, 2, nginx.requests().join('\n'));
  });
});
