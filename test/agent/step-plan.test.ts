import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideSteps, listSteps, planSteps, type StepStamp } from '../../src/agent/step-plan.js';
import type { Recipe } from '../../src/recipe/schema.js';

const COMMIT = 'a'.repeat(40);

function service(
  install: Recipe['service']['install'],
  extra: Partial<Recipe['service']> = {},
): Recipe['service'] {
  return {
    repo: '/srv/repo',
    ref: 'main',
    runtime: 'process',
    root: '.',
    install,
    start: ['true'],
    ...extra,
  };
}

const steps: Recipe['service']['install'] = [
  { name: 'php', packages: ['php-cli'], timeout: '10m' },
  { name: 'deps', run: ['composer', 'install'], timeout: '10m' },
  { name: 'build', shell: 'make all', timeout: '5m' },
  { name: 'warm', run: ['php', 'warm.php', '{data}'], timeout: '1m' },
];

/** Stamps as a finished run of `plan` leaves them. */
function stampsOf(plan: ReturnType<typeof planSteps>, upTo = plan.length): Map<string, StepStamp> {
  return new Map(
    plan
      .slice(0, upTo)
      .map((p) => [p.name, { fingerprint: p.fingerprint, commit: COMMIT, finishedAt: 'x' }]),
  );
}

const actions = (d: ReturnType<typeof decideSteps>) => d.map((s) => `${s.name}:${s.action}`);

describe('planSteps / decideSteps', () => {
  test('a first run runs every step, in recipe order', () => {
    const plan = planSteps(service(steps), COMMIT, false);
    assert.deepEqual(actions(decideSteps(plan, new Map())), [
      'php:run',
      'deps:run',
      'build:run',
      'warm:run',
    ]);
  });

  test('a re-run after success skips every command step (package steps are always checked)', () => {
    const plan = planSteps(service(steps), COMMIT, false);
    assert.deepEqual(actions(decideSteps(plan, stampsOf(plan))), [
      'php:run',
      'deps:skip',
      'build:skip',
      'warm:skip',
    ]);
  });

  test('a re-run after a failure resumes at the failed step', () => {
    const plan = planSteps(service(steps), COMMIT, false);
    assert.deepEqual(actions(decideSteps(plan, stampsOf(plan, 2))), [
      'php:run',
      'deps:skip',
      'build:run',
      'warm:run',
    ]);
  });

  test('a changed step redoes it and every step after it', () => {
    const before = planSteps(service(steps), COMMIT, false);
    const changed = steps.map((s) => (s.name === 'build' ? { ...s, shell: 'make all -j2' } : s));
    const after = planSteps(service(changed), COMMIT, false);
    assert.deepEqual(actions(decideSteps(after, stampsOf(before))), [
      'php:run',
      'deps:skip',
      'build:run',
      'warm:run',
    ]);
  });

  test('a new service commit redoes every step', () => {
    const before = planSteps(service(steps), COMMIT, false);
    const after = planSteps(service(steps), 'b'.repeat(40), false);
    assert.deepEqual(actions(decideSteps(after, stampsOf(before))), [
      'php:run',
      'deps:run',
      'build:run',
      'warm:run',
    ]);
  });

  test('a changed service env redoes every step; key order in the YAML does not count', () => {
    const before = planSteps(service(steps, { env: { A: '1' } }), COMMIT, false);
    const reordered = steps.map((s) => Object.fromEntries(Object.entries(s).reverse()) as typeof s);
    const same = planSteps(service(reordered, { env: { A: '1' } }), COMMIT, false);
    assert.deepEqual(
      same.map((p) => p.fingerprint),
      before.map((p) => p.fingerprint),
    );
    const after = planSteps(service(steps, { env: { A: '2' } }), COMMIT, false);
    assert.equal(decideSteps(after, stampsOf(before))[1]?.action, 'run');
  });

  test('the node runtime installs with npm ci first (npm install without a lock file)', () => {
    const node = service([], { runtime: 'node', start: ['node', 'server.js'] });
    assert.deepEqual(listSteps(node, true), [
      {
        step: {
          name: 'gitstrap-npm',
          run: ['npm', 'ci', '--no-audit', '--no-fund'],
          timeout: '15m',
        },
        implicit: true,
      },
    ]);
    assert.deepEqual(listSteps(node, false)[0]?.step.run, [
      'npm',
      'install',
      '--no-audit',
      '--no-fund',
    ]);
    assert.deepEqual(
      listSteps(service(steps), true).map((s) => s.step.name),
      ['php', 'deps', 'build', 'warm'],
    );
  });
});
