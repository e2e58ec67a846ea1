// The sync process (`bootstrap sync --once`, the built agent bundle) SIGKILLed at random moments,
// 30 times, while new commits keep coming. After every kill, `current` names a complete version
// (every file checked against its commit), every folder in versions/ is complete, and the next
// sync takes the dead process's lock over and recovers. The moments are drawn from a seed
// (GITSTRAP_TEST_SEED, or a fresh one), printed, so a failing sequence can be replayed.
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_BUNDLE } from '../helpers/cli.js';
import { commitFiles, writeFiles } from '../helpers/git.js';
import { startProcess } from '../helpers/proc.js';
import { propertySeed } from '../helpers/property.js';
import { tempDir } from '../helpers/tmp.js';
import { requireNode18 } from '../helpers/tools.js';
import { assertTree, servedCommit, startRemote, versionsIn } from './support.js';

const ITERATIONS = 30;
const FILES = 150;

/** A small seeded generator (mulberry32): the same seed gives the same numbers in [0, 1). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('SIGKILL at random moments never leaves a partial version, and the next sync recovers', async (t) => {
  if (!existsSync(AGENT_BUNDLE)) {
    throw new Error(`${AGENT_BUNDLE} is missing: run "npm run build" first`);
  }
  // The instance's Node: the engine must hold its contract there.
  const node18 = requireNode18();
  const seed = propertySeed();
  const random = seededRandom(seed);
  t.diagnostic(`kill moments from seed ${seed} (replay: GITSTRAP_TEST_SEED=${seed})`);
  const scratch = tempDir(t, 'gitstrap-kill-');
  /** What each commit's version must hold: the plain files plus the extracted archive. */
  const expected = new Map<string, Map<string, string>>();
  const plain = new Map<string, string>();
  for (let i = 0; i < FILES; i++) plain.set(`f/${i}.txt`, `file ${i} v0\n`);
  const tarball = (n: number) => {
    const dir = path.join(scratch, `tar-${n}`);
    const inner: Record<string, string> = { 'top/data.json': JSON.stringify({ n }) };
    for (let k = 0; k < 20; k++) inner[`top/list/${k}.txt`] = `${n}-${k}\n`;
    writeFiles(dir, inner);
    return {
      bytes: execFileSync('tar', ['-czf', '-', '-C', dir, 'top']),
      files: Object.entries(inner).map(([k, v]) => [k.replace(/^top\//, 'ext/'), v] as const),
    };
  };
  const record = (commit: string, n: number, files: ReturnType<typeof tarball>['files']) => {
    expected.set(
      commit,
      new Map([...plain, ...files, ['copied/0.txt', plain.get('f/0.txt')!] as const]),
    );
    return n;
  };
  const first = tarball(0);
  const remote = await startRemote(t, {
    ...Object.fromEntries(plain),
    'archive.tgz': first.bytes,
  });
  record(remote.first, 0, first.files);

  const recipe = path.join(scratch, 'recipe.yaml');
  writeFileSync(
    recipe,
    [
      'name: kill-test',
      'service: {repo: "https://example.invalid/s.git", runtime: static}',
      'data:',
      `  repo: "${remote.url}"`,
      '  mount: data',
      '  keep: 2',
      '  transform:',
      '    - {extract: archive.tgz, strip: 1, into: ext}',
      '    - {copy: {from: f/0.txt, to: copied/0.txt}}',
      '  check: [{json: ext/data.json}]',
      '',
    ].join('\n'),
  );
  const root = path.join(scratch, 'state');
  const dataDir = path.join(root, 'data');

  const runSync = () =>
    startProcess(t, node18, [
      AGENT_BUNDLE,
      'sync',
      '--recipe',
      recipe,
      '--root',
      root,
      '--once',
      '--verbose',
    ]);
  let recoveries = 0;

  /** Every version folder must be complete; `current` must name one of them. */
  const checkInvariant = (when: string) => {
    const served = servedCommit(dataDir);
    const versions = versionsIn(dataDir);
    if (served !== undefined)
      assert.ok(versions.includes(served), `${when}: current -> ${served} exists`);
    for (const commit of versions) {
      const want = expected.get(commit);
      assert.ok(want, `${when}: versions/${commit} is a commit we made`);
      assertTree(path.join(dataDir, 'versions', commit), want);
    }
  };

  // The first sync (a full checkout) runs to the end.
  const cold = runSync();
  assert.equal(await cold.exited, 0, cold.output());
  checkInvariant('after the first sync');

  let latest = remote.first;
  let warmMs = 0;
  let killed = 0;
  for (let i = 1; i <= ITERATIONS; i++) {
    // A new commit: a few plain files change and the archive is new.
    for (let k = 0; k < 5; k++) {
      const name = `f/${(i * 7 + k * 13) % FILES}.txt`;
      plain.set(name, `file ${name} v${i}\n`);
    }
    const archive = tarball(i);
    const changed = Object.fromEntries([...plain].filter(([, v]) => v.includes(` v${i}\n`)));
    latest = commitFiles(remote.work, { ...changed, 'archive.tgz': archive.bytes }, `commit ${i}`);
    record(latest, i, archive.files);

    const startedAt = Date.now();
    const proc = runSync();
    if (i % 6 === 1) {
      // Now and then a sync runs to the end: it must recover from whatever the kills left.
      const code = await proc.exited;
      assert.equal(code, 0, `iteration ${i}: ${proc.output()}`);
      assert.equal(servedCommit(dataDir), latest);
      if (/"event":"data\.lock\.stale"/.test(proc.output())) recoveries += 1;
      // Kills land anywhere in a run like this one (some land after it ended).
      warmMs = Date.now() - startedAt;
    } else {
      // The same seed gives the same fractions of a full run (the run's own length varies).
      const delay = Math.floor(random() * warmMs);
      await new Promise((r) => setTimeout(r, delay));
      proc.child.kill('SIGKILL');
      const how = await proc.exited;
      if (how === 'SIGKILL') killed += 1;
    }
    checkInvariant(`iteration ${i} (seed ${seed})`);
  }

  const last = runSync();
  assert.equal(await last.exited, 0, last.output());
  assert.equal(servedCommit(dataDir), latest);
  checkInvariant('after the final sync');
  assertTree(path.join(dataDir, 'current'), expected.get(latest)!);
  assert.equal(existsSync(path.join(dataDir, 'sync.lock')), false, 'no lock left');
  assert.equal(existsSync(path.join(dataDir, 'sync.lock.children')), false);
  t.diagnostic(`${killed} runs killed; ${recoveries} full runs took a dead sync's lock over`);
  assert.ok(recoveries >= 1, "some full runs found a dead sync's lock and took it over");
  assert.ok(killed >= ITERATIONS / 3, `most runs were killed mid-way (${killed})`);
});
