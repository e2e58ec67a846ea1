// `bootstrap sync` as a black box: the built bin, and the instance bundle on Node 18.
// Needs a fresh `npm run build`.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_BUNDLE, BIN, runCli } from '../helpers/cli.js';
import { commitFiles } from '../helpers/git.js';
import { startProcess, waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { requireNode18 } from '../helpers/tools.js';
import { servedCommit, startRemote } from './support.js';

function writeRecipe(dir: string, dataLines: string[]): string {
  const file = path.join(dir, 'sync-test.yaml');
  writeFileSync(
    file,
    [
      'name: sync-test',
      'service:',
      '  repo: https://example.invalid/service.git',
      '  runtime: static',
      ...dataLines,
      '',
    ].join('\n'),
  );
  return file;
}

function requireBuild(): void {
  for (const file of [BIN, AGENT_BUNDLE, path.join(path.dirname(BIN), '../dist/cli.js')]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
  }
}

describe('bootstrap sync', () => {
  test('--once publishes, then reports unchanged; --json prints the result; --rollback goes back', async (t) => {
    requireBuild();
    const remote = await startRemote(t, { 'index.json': '{"v":1}' });
    const dir = tempDir(t);
    const recipe = writeRecipe(dir, [
      'data:',
      `  repo: ${remote.url}`,
      '  mount: data',
      '  check: [{json: index.json}]',
    ]);
    const root = path.join(dir, 'state');
    const args = ['sync', '--recipe', recipe, '--root', root];

    const first = await runCli([...args, '--once']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      new RegExp(`^published ${remote.first.slice(0, 12)} \\(was nothing; served after \\d+ ms`),
    );
    assert.equal(servedCommit(path.join(root, 'data')), remote.first);

    const same = await runCli([...args, '--once']);
    assert.equal(same.code, 0);
    assert.match(same.stdout, /^unchanged at /);

    const second = commitFiles(remote.work, { 'index.json': '{"v":2}' });
    const json = await runCli([...args, '--once', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const result = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(result.outcome, 'published');
    assert.equal(result.commit, second);
    assert.equal(result.previous, remote.first);
    assert.equal(result.trigger, 'manual');

    const back = await runCli([...args, '--rollback']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, new RegExp(`^rolled back to ${remote.first.slice(0, 12)}`));
    assert.equal(servedCommit(path.join(root, 'data')), remote.first);
  });

  test('failures: a clear message, the served version, a hint, exit 3, no stack trace', async (t) => {
    requireBuild();
    const remote = await startRemote(t, { 'index.json': '{"v":1}' });
    const dir = tempDir(t);
    const recipe = writeRecipe(dir, ['data:', `  repo: ${remote.url}`, '  mount: data']);
    const root = path.join(dir, 'state');
    assert.equal((await runCli(['sync', '--recipe', recipe, '--root', root, '--once'])).code, 0);

    const bad = await runCli([
      'sync',
      '--recipe',
      recipe,
      '--root',
      root,
      '--once',
      '--set',
      'data.ref=nope',
    ]);
    assert.equal(bad.code, 3);
    assert.match(
      bad.stderr,
      /^error: sync failed in fetch: git:\/\/127\.0\.0\.1:\d+\/data has no branch or tag named nope/,
    );
    assert.match(bad.stderr, new RegExp(`still serving ${remote.first}`));
    assert.match(bad.stderr, /hint: check data\.ref/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);

    const badJson = await runCli([
      'sync',
      '--recipe',
      recipe,
      '--root',
      root,
      '--once',
      '--json',
      '--set',
      'data.ref=nope',
    ]);
    assert.equal(badJson.code, 3);
    assert.equal(JSON.parse(badJson.stdout).phase, 'fetch');

    const noData = writeRecipe(tempDir(t), []);
    const r1 = await runCli(['sync', '--recipe', noData, '--once', '--root', root]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /has no data section, so there is nothing to sync/);

    const r2 = await runCli(['sync', '--once']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /missing --recipe/);

    const r3 = await runCli(['sync', '--recipe', recipe, '--root', root]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /data\.schedule is not set/);

    const blocker = path.join(dir, 'a-file');
    writeFileSync(blocker, '');
    const r4 = await runCli(['sync', '--recipe', recipe, '--root', blocker, '--once']);
    assert.equal(r4.code, 1);
    assert.match(r4.stderr, /cannot create the data folder .*a-file\/data: ENOTDIR/);
    assert.match(r4.stderr, /hint: run as the agent's user, or pass --root DIR/);
  });

  test('the instance bundle on Node 18 runs the schedule in the foreground until Ctrl-C', async (t) => {
    requireBuild();
    const node18 = requireNode18();
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const dir = tempDir(t);
    const recipe = writeRecipe(dir, [
      'data:',
      `  repo: ${remote.url}`,
      '  mount: data',
      '  schedule: "* * * * * *"',
      '  jitter: 100ms',
    ]);
    const root = path.join(dir, 'state');
    const data = path.join(root, 'data');
    const agent = startProcess(t, node18, [
      AGENT_BUNDLE,
      'sync',
      '--recipe',
      recipe,
      '--root',
      root,
    ]);
    await waitFor(
      async () => (servedCommit(data) === remote.first ? true : undefined),
      'startup sync',
      10_000,
    );
    const second = commitFiles(remote.work, { 'a.txt': 'b' });
    await waitFor(
      async () => (servedCommit(data) === second ? true : undefined),
      'scheduled sync',
      10_000,
    );

    agent.child.kill('SIGINT');
    const code = await Promise.race([
      agent.exited,
      new Promise((r) => setTimeout(() => r('hung'), 8000)),
    ]);
    assert.equal(code, 0, agent.output());
    const events = agent
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; trigger?: string; recipe?: string });
    assert.ok(events.some((e) => e.event === 'data.published' && e.trigger === 'startup'));
    assert.ok(events.some((e) => e.event === 'data.published' && e.trigger === 'schedule'));
    assert.ok(events.some((e) => e.event === 'data.schedule.stopped'));
    assert.ok(events.every((e) => e.recipe === 'sync-test'));
  });
});
