// The agent's life: one agent per state root, supervision of the service, clean stops, and one clear
// message for each way a start can fail.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startProcess, waitFor } from '../helpers/proc.js';
import { fakePackageManager, get, isAlive, makeRepos, startAgent, writeRecipe } from './harness.js';

const PID_SERVER = [
  "const http = require('http');",
  "http.createServer((req, res) => res.end(String(process.pid))).listen(Number(process.argv[2]), '127.0.0.1');",
].join('\n');

describe('agent lifecycle', () => {
  test('one agent per state root; the service is restarted after kill -9; SIGTERM stops it all', async (t) => {
    const repos = await makeRepos(t, { 'server.js': PID_SERVER });
    const recipe = {
      name: 'supervised',
      service: {
        repo: repos.serviceUrl,
        runtime: 'process',
        start: ['node', 'server.js', '{port}'],
      },
      data: { repo: repos.dataUrl, mount: 'data' },
    };
    const agent = await startAgent(t, repos.dir, recipe);
    const lockFile = path.join(agent.root, 'agent.lock');
    const lock = readFileSync(lockFile, 'utf8');
    const servicePid = Number((await get(agent.url)).body);
    assert.ok(isAlive(servicePid));

    const second = await writeRecipe(repos.dir, recipe);
    const refused = await runCli(['--recipe', second.file, '--root', agent.root]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      new RegExp(
        `^error: an agent is already running for this state root \\(pid ${agent.proc.pid}, since `,
      ),
    );
    assert.match(refused.stderr, /hint: nothing was changed/);
    assert.equal(readFileSync(lockFile, 'utf8'), lock);
    assert.equal(Number((await get(agent.url)).body), servicePid, 'the first agent still serves');

    process.kill(servicePid, 'SIGKILL');
    const restarted = await waitFor(async () => {
      const pid = Number((await get(agent.url).catch(() => ({ body: '' }))).body);
      return pid && pid !== servicePid ? pid : undefined;
    }, 'the restarted service');
    await agent.waitForLog('service.exited', (l) => l.signal === 'SIGKILL');

    await agent.proc.stop('SIGTERM');
    assert.equal(await agent.proc.exited, 0);
    assert.equal(isAlive(restarted), false, 'the service stopped with the agent');
    assert.equal(existsSync(lockFile), false, 'the lock is released');
    assert.ok(agent.logs().some((l) => l.event === 'service.stopped'));
  });

  test('healthz turns 503 past the data failure budget, while the last version stays served; ttl shows in status', async (t) => {
    const repos = await makeRepos(t, { 'index.html': 'x' }, { 'a.json': '{"v":1}' });
    const agent = await startAgent(t, repos.dir, {
      name: 'budget',
      service: { repo: repos.serviceUrl, runtime: 'static' },
      data: {
        repo: repos.dataUrl,
        mount: 'data',
        schedule: '* * * * * *',
        retries: 0,
        failure_budget: 2,
      },
      ttl: '2h',
    });
    const status = JSON.parse((await get(`${agent.url}/_gitstrap/status.json`)).body);
    assert.equal(Date.parse(status.expiresAt) - Date.parse(status.startedAt), 2 * 3600_000);
    assert.equal((await get(`${agent.url}/_gitstrap/healthz`)).status, 200);

    await repos.daemon.stop();
    const unhealthy = await waitFor(async () => {
      const r = await get(`${agent.url}/_gitstrap/healthz`);
      return r.status === 503 ? r : undefined;
    }, 'healthz 503');
    assert.match(
      JSON.parse(unhealthy.body).reasons.join('\n'),
      /data syncs failed in a row \(failure budget 2\)/,
    );
    assert.equal((await get(`${agent.url}/data/a.json`)).body, '{"v":1}');
  });

  test('the first data version is fetched beside the clone, after it when data steps name {service}', async (t) => {
    const repos = await makeRepos(t, { 'index.html': 'x', 'schema.txt': 'ok' });
    // The check reads a file of the service checkout: it must be there before the first sync.
    const agent = await startAgent(t, repos.dir, {
      name: 'ordered',
      service: { repo: repos.serviceUrl, runtime: 'static' },
      data: {
        repo: repos.dataUrl,
        mount: 'data',
        check: [{ run: ['test', '-f', '{service}/schema.txt'] }],
      },
    });
    const order = (logs: ReturnType<typeof agent.logs>) =>
      logs
        .filter((l) => l.event === 'service.checkout' || l.event === 'data.first_sync')
        .map((l) => l.event);
    assert.deepEqual(order(agent.logs()), ['service.checkout', 'data.first_sync']);
    assert.equal((await get(`${agent.url}/data/results.json`)).body, '{"total": 1}');

    // Without {service} in the data steps both start at once: the first sync starts while the
    // service is still being cloned (its checkout takes two git processes).
    const side = await startAgent(
      t,
      repos.dir,
      {
        name: 'side-by-side',
        service: { repo: repos.serviceUrl, runtime: 'static' },
        data: { repo: repos.dataUrl, mount: 'data' },
      },
      { root: path.join(repos.dir, 'state-side') },
    );
    assert.deepEqual(order(side.logs()), ['data.first_sync', 'service.checkout']);
    assert.equal((await get(`${side.url}/data/results.json`)).body, '{"total": 1}');
  });

  test('a port already taken: one clear message, exit 3, lock released', async (t) => {
    const repos = await makeRepos(t, { 'index.html': 'x' });
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    t.after(() => blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    const { file } = await writeRecipe(repos.dir, {
      name: 'taken',
      service: { repo: repos.serviceUrl, runtime: 'static' },
      serve: { port },
    });
    const root = path.join(repos.dir, 'state');
    const r = await runCli(['run', '--recipe', file, '--root', root]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr.split('\n')[0], `error: port ${port} on 127.0.0.1 is already in use`);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.equal(existsSync(path.join(root, 'agent.lock')), false);
    assert.deepEqual(startFailure(root), {
      result: 'failure',
      step: 'listen',
      exitCode: 3,
      message: `port ${port} on 127.0.0.1 is already in use`,
    });
  });

  test('an unreachable repo and a missing ref: one clear message each, non-zero exit', async (t) => {
    const repos = await makeRepos(t, { 'index.html': 'x' });
    const root = path.join(repos.dir, 'state');
    const unreachable = await writeRecipe(repos.dir, {
      name: 'unreachable',
      service: { repo: 'git://127.0.0.1:9/nothing-here', runtime: 'static' },
    });
    const a = await runCli(['--recipe', unreachable.file, '--root', root]);
    assert.equal(a.code, 3);
    assert.match(
      a.stderr,
      /^error: cannot reach the service repo git:\/\/127\.0\.0\.1:9\/nothing-here: unable to connect to 127\.0\.0\.1/,
    );
    assert.match(a.stderr, /hint: check service\.repo and service\.auth/);
    assert.equal(startFailure(root)?.step, 'clone');

    const missing = await writeRecipe(repos.dir, {
      name: 'missing-ref',
      service: { repo: repos.serviceUrl, ref: 'mian', runtime: 'static' },
    });
    const b = await runCli(['--recipe', missing.file, '--root', root]);
    assert.equal(b.code, 1);
    assert.match(
      b.stderr,
      new RegExp(
        `^error: service.ref "mian" is not a branch or tag of ${repos.serviceUrl}\\n  hint: did you mean "main"\\?`,
      ),
    );

    const noData = await writeRecipe(repos.dir, {
      name: 'missing-data',
      service: { repo: repos.serviceUrl, runtime: 'static' },
      data: { repo: repos.daemon.url('no-such-data'), mount: 'data' },
    });
    const c = await runCli(['--recipe', noData.file, '--root', root]);
    assert.equal(c.code, 3);
    assert.match(
      c.stderr,
      /^error: could not get the first data version from git:\/\/127\.0\.0\.1:\d+\/no-such-data/,
    );
    assert.equal(startFailure(root)?.step, 'data');
  });

  test('a recipe the agent refuses is recorded for first boot as step recipe', async (t) => {
    const repos = await makeRepos(t, { 'index.html': 'x' });
    const root = path.join(repos.dir, 'state');
    mkdirSync(root);
    const file = path.join(repos.dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\nservice:\n  repo: /srv/app\n  runtime: proces\n');
    const r = await runCli(['run', '--recipe', file, '--root', root]);
    assert.equal(r.code, 1);
    assert.deepEqual(startFailure(root), {
      result: 'failure',
      step: 'recipe',
      exitCode: 1,
      message: `${file} is not a valid recipe (1 problem):`,
      details: [
        `${file}:4:12: service.runtime: expected one of static | site | node | process, got "proces"`,
        '  hint: did you mean "process"?',
      ],
    });
  });

  test('install steps: packages through the package manager, a failing step stops the run, a re-run resumes', async (t) => {
    const repos = await makeRepos(t, { 'index.html': 'x' });
    const pm = fakePackageManager(repos.dir);
    const env = { PATH: pm.path };
    const trace = path.join(repos.dir, 'trace');
    const recipe = (third: string) => ({
      name: 'steps',
      service: {
        repo: repos.serviceUrl,
        runtime: 'static',
        install: [
          { name: 'tools', packages: { apt: ['fake-tool'], dnf: ['fake-tool-rpm'] } },
          { name: 'prepare', run: ['sh', '-c', `echo prepare >> ${trace}`] },
          { name: 'build', shell: third },
        ],
      },
    });
    const root = path.join(repos.dir, 'state');
    const failing = await writeRecipe(
      repos.dir,
      recipe(`echo build >> ${trace}; echo compiling; echo 'fatal: missing thing' >&2; exit 2`),
    );
    const first = await runCli(['--recipe', failing.file, '--root', root], { env });
    assert.equal(first.code, 3);
    assert.equal(
      first.stderr,
      [
        'error: install step "build" failed: exit code 2',
        '  last lines of output:',
        '    compiling',
        '    fatal: missing thing',
        `  hint: full output in ${root}/steps/build.log; fix the cause and run again: steps already done are skipped`,
        '',
      ].join('\n'),
    );
    // First boot reads this record to end with a marker naming the step (userdata/first-boot.sh.hbs).
    assert.deepEqual(startFailure(root), {
      result: 'failure',
      step: 'install:build',
      exitCode: 3,
      message: 'install step "build" failed: exit code 2',
      details: ['last lines of output:', '  compiling', '  fatal: missing thing'],
    });
    assert.deepEqual(pm.calls(), [
      'dpkg-query -W -f=${Package}\t${db:Status-Abbrev}\n -- fake-tool',
      'apt-get update -q',
      'apt-get install -y -q --no-install-recommends -- fake-tool',
      'dpkg-query -W -f=${Package}\t${db:Status-Abbrev}\n -- fake-tool',
    ]);
    // A stale lock of a dead agent is taken over.
    const dead = startProcess(t, 'true', []);
    await dead.exited;
    writeFileSync(
      path.join(root, 'agent.lock'),
      JSON.stringify({ pid: dead.pid, startedAt: 'earlier' }),
    );

    const agent = await startAgent(t, repos.dir, recipe(`echo build-fixed >> ${trace}`), {
      root,
      env,
    });
    assert.equal(readFileSync(trace, 'utf8'), 'prepare\nbuild\nbuild-fixed\n');
    assert.deepEqual(
      agent
        .logs()
        .filter(
          (l) =>
            l.event === 'step.skipped' || l.event === 'step.done' || l.event === 'packages.present',
        )
        .map((l) => `${l.event} ${l.step}`),
      ['packages.present tools', 'step.done tools', 'step.skipped prepare', 'step.done build'],
    );
    assert.equal((await get(`${agent.url}/`)).body, 'x');
    assert.equal(startFailure(root), undefined, 'an agent that serves removes the record');
  });
});

/** <root>/start-failure.json without its time, or undefined when there is none. */
function startFailure(root: string): Record<string, unknown> | undefined {
  const file = path.join(root, 'start-failure.json');
  if (!existsSync(file)) return undefined;
  const { at, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.match(String(at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  return rest;
}
