// `bootstrap publish` against real agents: `bootstrap run` processes (the built CLI) with the
// shipped open-qa recipe's data section (tarball, extract strip 1, its check), pulling every second
// from `git daemon` on 127.0.0.1, read over HTTP the whole time. A publish reaches every agent with
// no error answer; a publish killed in the middle of its push leaves the previous version served
// everywhere, and the next one takes its lock over; trimming history while an agent is between
// ls-remote and fetch of the old tip leaves it serving the newest.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { parse } from 'yaml';
import { BIN, runCli } from '../helpers/cli.js';
import { git, makeRepo, startGitDaemon, writeFiles } from '../helpers/git.js';
import { freePort, startProcess, waitFor, waitForPort } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';
import { get, isAlive, startAgent, writeRecipe, type RunningAgent } from '../agent/harness.js';
import { startHoldProxy } from './hold-proxy.js';

/** The shipped open-qa recipe's data section (tarball, extract strip: 1, its check). */
function openQaData(): Record<string, unknown> {
  const recipe = parse(readFileSync(path.join(projectRoot, 'recipes/open-qa.yaml'), 'utf8')) as {
    data: Record<string, unknown>;
  };
  return recipe.data;
}

/** A QA results folder for day `day`; version.txt says which one. */
function results(day: number): Record<string, string> {
  const files: Record<string, string> = { 'version.txt': `v${day}\n` };
  for (let d = 1; d <= day; d++) {
    files[`this_date_test_list_2024-05-${String(d).padStart(2, '0')}.lst`] = `smoke ${d}\n`;
    files[`open_qa_smoke_UID_${d}.cache`] = `[2024-05-${String(d).padStart(2, '0')}] UID ${d}\n`;
  }
  return files;
}

/** A service repo, an empty bare data repo (master), git daemon over both; a results folder. */
async function setUp(t: TestContext, options: { receivePack?: boolean } = {}) {
  const dir = tempDir(t, 'gitstrap-publish-fleet-');
  const repos = path.join(dir, 'repos');
  makeRepo(path.join(repos, 'service'), { 'index.html': 'open qa\n' });
  const bare = path.join(repos, 'data.git');
  git(dir, 'init', '-q', '--bare', '-b', 'master', bare);
  let daemonPort: number;
  if (options.receivePack) {
    daemonPort = await freePort();
    startProcess(t, 'git', [
      'daemon',
      '--reuseaddr',
      '--listen=127.0.0.1',
      `--port=${daemonPort}`,
      `--base-path=${repos}`,
      '--export-all',
      '--enable=receive-pack',
      '--informative-errors',
      repos,
    ]);
    await waitForPort(daemonPort);
  } else {
    daemonPort = (await startGitDaemon(t, repos)).port;
  }
  return {
    dir,
    bare,
    daemonPort,
    serviceUrl: `git://127.0.0.1:${daemonPort}/service`,
    folder: path.join(dir, 'qa-results'),
    publisherRoot: path.join(dir, 'publisher'),
  };
}

type Env = Awaited<ReturnType<typeof setUp>>;

/** The recipe the agents run and the publisher publishes with. */
function fleetRecipe(env: Env, dataUrl: string, publish: Record<string, unknown>) {
  return {
    name: 'qa-fleet',
    service: { repo: env.serviceUrl, runtime: 'static' },
    data: { ...openQaData(), repo: dataUrl, schedule: '* * * * * *', jitter: '0s' },
    publish,
  };
}

async function publishOnce(env: Env, recipe: Record<string, unknown>, day: number) {
  writeFiles(env.folder, results(day));
  const { file } = await writeRecipe(env.dir, recipe);
  const r = await runCli([
    'publish',
    '--recipe',
    file,
    '--from',
    env.folder,
    '--root',
    env.publisherRoot,
    '--once',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return git(env.bare, 'rev-parse', 'master');
}

/** Reads version.txt from every agent until stopped: every answer's status and body. */
function readContinuously(agents: RunningAgent[]) {
  let running = true;
  const seen = { answers: 0, errors: [] as string[], bodies: new Set<string>() };
  const loop = (async () => {
    while (running) {
      for (const agent of agents) {
        try {
          const r = await get(`${agent.url}/webcache/version.txt`);
          seen.answers++;
          if (r.status !== 200)
            seen.errors.push(`${agent.port}: ${r.status} ${r.body.slice(0, 80)}`);
          else seen.bodies.add(r.body);
        } catch (error) {
          seen.errors.push(`${agent.port}: ${(error as Error).message}`);
        }
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

async function serving(agents: RunningAgent[], body: string): Promise<void> {
  await waitFor(
    async () => {
      const all = await Promise.all(agents.map((a) => get(`${a.url}/webcache/version.txt`)));
      return all.every((r) => r.status === 200 && r.body === body) ? true : undefined;
    },
    `every agent serving ${body.trim()}`,
    45_000,
  );
}

function failures(agent: RunningAgent) {
  return agent.logs().filter((l) => l.event === 'data.sync.failed');
}

describe('bootstrap publish and the agents', () => {
  test('a publish reaches every agent, with no error answer while it lands', async (t) => {
    const env = await setUp(t);
    const recipe = fleetRecipe(env, `git://127.0.0.1:${env.daemonPort}/data.git`, {
      repo: env.bare,
    });
    await publishOnce(env, recipe, 1);
    const agents = await Promise.all(
      [0, 1, 2].map((i) =>
        startAgent(t, env.dir, recipe, { root: path.join(env.dir, `agent-${i}`) }),
      ),
    );
    await serving(agents, 'v1\n');
    const reading = readContinuously(agents);
    await new Promise((r) => setTimeout(r, 500));
    const commit = await publishOnce(env, recipe, 2);
    await serving(agents, 'v2\n');
    await new Promise((r) => setTimeout(r, 300));
    const seen = await reading.stop();

    assert.deepEqual(seen.errors, []);
    assert.deepEqual([...seen.bodies].sort(), ['v1\n', 'v2\n'], 'both versions were read');
    assert.ok(seen.answers >= 20, `only ${seen.answers} answers`);
    for (const agent of agents) {
      assert.ok(
        agent.logs().some((l) => l.event === 'data.published' && l.commit === commit),
        'the agent published the new commit',
      );
      assert.deepEqual(failures(agent), []);
      // The version is the folder, as the transform unpacked it.
      const list = await get(`${agent.url}/webcache/this_date_test_list_2024-05-02.lst`);
      assert.equal(list.body, 'smoke 2\n');
    }
  });

  test('a publish killed in the middle of its push leaves the previous version served everywhere; the next publish takes its lock over', async (t) => {
    const env = await setUp(t, { receivePack: true });
    // The publisher pushes through a proxy that can stall its push; the agents read directly.
    const proxy = await startHoldProxy(t, env.daemonPort);
    const recipe = fleetRecipe(env, `git://127.0.0.1:${env.daemonPort}/data.git`, {
      repo: `git://127.0.0.1:${proxy.port}/data.git`,
    });
    const v1 = await publishOnce(env, recipe, 1);
    const agents = await Promise.all(
      [0, 1].map((i) => startAgent(t, env.dir, recipe, { root: path.join(env.dir, `agent-${i}`) })),
    );
    await serving(agents, 'v1\n');
    const reading = readContinuously(agents);

    // The push stalls once its pack starts; then the publisher dies (SIGKILL: no clean-up of its own).
    proxy.holdAt('PACK');
    writeFiles(env.folder, results(2));
    const { file } = await writeRecipe(env.dir, recipe);
    const killed = startProcess(t, process.execPath, [
      BIN,
      'publish',
      '--recipe',
      file,
      '--from',
      env.folder,
      '--root',
      env.publisherRoot,
      '--once',
    ]);
    await proxy.held();
    killed.child.kill('SIGKILL');
    await killed.exited;
    const children = path.join(env.publisherRoot, 'publish', 'publish.lock.children');
    const orphans = (
      JSON.parse(readFileSync(children, 'utf8')) as { children: Array<{ pid: number }> }
    ).children.map((c) => c.pid);
    assert.ok(orphans.length > 0 && orphans.every(isAlive), 'its git push is still alive, stalled');

    // Several polls of every agent later: still v1 everywhere, the branch untouched.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(git(env.bare, 'rev-parse', 'master'), v1);
    for (const agent of agents)
      assert.equal((await get(`${agent.url}/webcache/version.txt`)).body, 'v1\n');

    // The next publish (the network is back): takes the dead publisher's lock over, kills its push.
    proxy.holdAt(undefined);
    const v2 = await publishOnce(env, recipe, 2);
    assert.notEqual(v2, v1);
    await waitFor(async () => (orphans.some(isAlive) ? undefined : true), 'the orphan push killed');
    assert.equal(existsSync(children), false, 'the lock and its children file are released');
    await serving(agents, 'v2\n');
    const seen = await reading.stop();
    assert.deepEqual(seen.errors, []);
    assert.deepEqual([...seen.bodies].sort(), ['v1\n', 'v2\n']);
    assert.ok(seen.answers >= 50, `only ${seen.answers} answers`);
    for (const agent of agents) assert.deepEqual(failures(agent), []);
  });

  test('history trimmed and pruned while an agent is between ls-remote and the fetch of the old tip: it serves the newest', async (t) => {
    const env = await setUp(t);
    // The agent reads through a proxy that holds its fetch request (after ls-remote named the tip).
    const proxy = await startHoldProxy(t, env.daemonPort);
    const recipe = fleetRecipe(env, `git://127.0.0.1:${proxy.port}/data.git`, {
      repo: env.bare,
      keep_history: 2,
    });
    await publishOnce(env, recipe, 1);
    await publishOnce(env, recipe, 2);
    const agent = await startAgent(t, env.dir, recipe, { root: path.join(env.dir, 'agent') });
    await serving([agent], 'v2\n');
    const reading = readContinuously([agent]);

    proxy.holdAt('command=fetch');
    const v3 = await publishOnce(env, recipe, 3);
    await proxy.held(); // the agent asked for v3 by its SHA, and waits
    const v4 = await publishOnce(env, recipe, 4); // history re-created: v3 is on no branch now
    assert.equal(git(env.bare, 'rev-list', '--count', 'master'), '2');
    assert.equal(git(env.bare, 'branch', '--contains', v3).trim(), '');
    // The worst case: the host has already dropped it.
    // (prune, not gc: the objects a push brings are loose; no repack needed to drop them)
    git(env.bare, 'reflog', 'expire', '--expire=now', '--all');
    git(env.bare, 'prune', '--expire=now');
    assert.throws(() => git(env.bare, 'cat-file', '-e', `${v3}^{commit}`));
    proxy.holdAt(undefined);
    proxy.release();

    await serving([agent], 'v4\n');
    const seen = await reading.stop();
    assert.deepEqual(seen.errors, []);
    assert.ok(seen.answers >= 10, `only ${seen.answers} answers`);
    assert.deepEqual(failures(agent), [], 'the fetch of the old tip fell back to the branch');
    assert.ok(agent.logs().some((l) => l.event === 'data.published' && l.commit === v4));
    assert.ok(!agent.logs().some((l) => l.event === 'data.published' && l.commit === v3));
  });
});
