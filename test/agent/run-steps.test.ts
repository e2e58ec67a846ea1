import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runInstallSteps, type RunStepsOptions } from '../../src/agent/run-steps.js';
import type { GitstrapError } from '../../src/lib/errors.js';
import { memoryLogger } from '../../src/lib/log.js';
import type { InstallStep, Recipe } from '../../src/recipe/schema.js';
import { tempDir } from '../helpers/tmp.js';

function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const checkout = path.join(dir, 'service', 'c0ffee');
  mkdirSync(path.join(checkout, 'sub'), { recursive: true });
  const trace = path.join(dir, 'trace');
  const options = (
    install: InstallStep[],
    commit = 'c0ffee',
    env: Record<string, string> = {},
  ): RunStepsOptions & { logger: ReturnType<typeof memoryLogger> } => ({
    service: {
      repo: '/r',
      ref: 'main',
      runtime: 'static',
      root: '.',
      install,
      env,
    } as Recipe['service'],
    commit,
    checkout,
    stepsDir: path.join(dir, 'steps'),
    placeholders: {
      port: 4321,
      service: checkout,
      data: path.join(dir, 'data/current'),
      state: dir,
    },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TRACE: trace },
    logger: memoryLogger(),
    packages: {
      kind: 'apt',
      isRoot: false,
      run: () => Promise.reject(new Error('no packages here')),
      logger: memoryLogger(),
      rootCommand: 'x',
    },
  });
  const traced = () => readFileSync(trace, 'utf8').trim().split('\n');
  return { dir, checkout, options, traced };
}

const step = (name: string, extra: Partial<InstallStep> = {}): InstallStep => ({
  name,
  shell: `echo ${name} >> "$TRACE"`,
  timeout: '1m',
  ...extra,
});

describe('install steps', () => {
  test('run in order as argv or shell, with placeholders, env and cwd; output in steps/<name>.log', async (t) => {
    const { options, traced, checkout, dir } = setup(t);
    const o = options(
      [
        step('first'),
        {
          name: 'argv',
          run: [
            'sh',
            '-c',
            'echo "$1 $2 $(pwd) $GREETING" >> "$TRACE"',
            'sh',
            '{port}',
            '{service}',
          ],
          cwd: 'sub',
          env: { GREETING: 'hello {state}' },
          timeout: '1m',
        },
        step('shell', {
          shell: 'echo "$PORT $GITSTRAP_DATA $SVC_ENV" >> "$TRACE"; echo to-the-log',
        }),
      ],
      'c0ffee',
      { SVC_ENV: 'from-service' },
    );
    const reports = await runInstallSteps(o);
    assert.deepEqual(
      reports.map((r) => `${r.name}:${r.action}`),
      ['first:ran', 'argv:ran', 'shell:ran'],
    );
    assert.deepEqual(traced(), [
      'first',
      `4321 ${checkout} ${checkout}/sub hello ${dir}`,
      `4321 ${dir}/data/current from-service`,
    ]);
    assert.match(
      readFileSync(path.join(dir, 'steps', 'shell.log'), 'utf8'),
      /^# .*shell\nto-the-log\n# exit code 0\n$/,
    );
    assert.ok(
      o.logger.entries.some(
        (e) => e.event === 'step.output' && e.step === 'shell' && e.line === 'to-the-log',
      ),
    );
  });

  test('a failing step stops the run with its name, exit code and last lines; a re-run resumes there', async (t) => {
    const { options, traced } = setup(t);
    const broken = [
      step('one'),
      step('two', {
        shell: 'echo two >> "$TRACE"; for i in $(seq 1 30); do echo line$i; done; exit 4',
      }),
      step('three'),
    ];
    await assert.rejects(runInstallSteps(options(broken)), (error: GitstrapError) => {
      assert.equal(error.message, 'install step "two" failed: exit code 4');
      assert.equal(error.exitCode, 3);
      assert.equal(error.details[0], 'last lines of output:');
      assert.equal(error.details.at(-1), '  line30');
      assert.equal(error.details.length, 21);
      assert.match(
        error.hint ?? '',
        /steps\/two\.log; fix the cause and run again: steps already done are skipped/,
      );
      return true;
    });
    assert.deepEqual(traced(), ['one', 'two']);

    const fixed = [step('one'), step('two'), step('three')];
    const reports = await runInstallSteps(options(fixed));
    assert.deepEqual(
      reports.map((r) => `${r.name}:${r.action}`),
      ['one:skipped', 'two:ran', 'three:ran'],
    );
    assert.deepEqual(traced(), ['one', 'two', 'two', 'three']);

    const again = await runInstallSteps(options(fixed));
    assert.deepEqual(
      again.map((r) => r.action),
      ['skipped', 'skipped', 'skipped'],
    );

    const changed = [
      step('one'),
      step('two', { shell: 'echo two-changed >> "$TRACE"' }),
      step('three'),
    ];
    await runInstallSteps(options(changed));
    assert.deepEqual(traced().slice(4), ['two-changed', 'three']);

    await runInstallSteps(options(changed, 'beef'));
    assert.deepEqual(
      traced().slice(6),
      ['one', 'two-changed', 'three'],
      'a new commit redoes every step',
    );
  });

  test('a step over its timeout is killed and reported; a missing program says how to get it', async (t) => {
    const { options } = setup(t);
    const started = Date.now();
    await assert.rejects(
      runInstallSteps(options([step('slow', { shell: 'sleep 30', timeout: '300ms' })])),
      (error: GitstrapError) => {
        assert.equal(
          error.message,
          'install step "slow" failed: timed out after 300ms and was killed',
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 10_000);
    await assert.rejects(
      runInstallSteps(
        options([{ name: 'tool', run: ['no-such-tool-xyz', '--version'], timeout: '1m' }]),
      ),
      (error: GitstrapError) => {
        assert.equal(
          error.message,
          'install step "tool" failed: could not start: program not found',
        );
        assert.match(
          error.hint ?? '',
          /"no-such-tool-xyz" is not installed or not on PATH; add a packages step/,
        );
        return true;
      },
    );
    await assert.rejects(
      runInstallSteps(options([step('where', { cwd: 'nope' })])),
      /install step "where": cwd "nope" is not a folder of the service checkout/,
    );
  });
});
