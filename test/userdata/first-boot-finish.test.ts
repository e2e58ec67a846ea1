// The second half of first boot (`bootstrap first-boot`, src/userdata/first-boot-finish.ts) with
// systemctl, the health probe and the clock injected, and real files in a temporary root: what it
// writes (the agent's unit, bootstrap-result.json), what it asks systemd, and how each way of ending
// reads on the console.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { INSTANCE_PATHS } from '../../src/lib/instance-paths.js';
import { agentUnitText } from '../../src/userdata/agent-unit.js';
import {
  finishFirstBoot,
  type FinishOptions,
  type SystemctlResult,
} from '../../src/userdata/first-boot-finish.js';
import { tempDir } from '../helpers/tmp.js';
import { verifyUnits } from './real-tools.js';

const START = Date.parse('2026-12-02T10:00:00Z');
const FAILURE_FILE = '/var/lib/gitstrap/open-qa/start-failure.json';

interface Machine {
  root: string;
  /** Every systemctl call. */
  calls: string[][];
  /** Every health probe's URL. */
  probes: string[];
  /** Console lines: "out: ..." and "err: ...". */
  lines: string[];
  /** Milliseconds slept, in all. */
  slept: number;
}

interface Scenario {
  /** Whether the nth probe (from 1) answers. */
  healthy?: (n: number) => boolean;
  /** NRestarts systemd reports. */
  restarts?: number;
  /** Exit codes of systemctl by its verb (enable, start, ...). */
  fail?: Record<string, number>;
  /** Runs as systemctl start does (the unit's package step). */
  onStart?: (root: string) => void;
  /** Written as the agent's start-failure record when the nth probe runs. */
  record?: { at: number; text: string };
  /** Before the run: the machine's files. */
  before?: (root: string) => void;
  /** Options over the defaults. */
  options?: Partial<FinishOptions>;
}

async function finish(t: Parameters<typeof tempDir>[0], scenario: Scenario = {}) {
  const root = tempDir(t);
  const file = (p: string) => path.join(root, p);
  mkdirSync(path.dirname(file(INSTANCE_PATHS.recipesDir + '/x')), { recursive: true });
  writeFileSync(file(`${INSTANCE_PATHS.recipesDir}/open-qa.yaml`), 'name: open-qa\n');
  scenario.before?.(root);
  const machine: Machine = { root, calls: [], probes: [], lines: [], slept: 0 };
  let clock = START;
  const code = await finishFirstBoot(
    {
      name: 'open-qa',
      port: 80,
      healthHost: '127.0.0.1',
      healthTimeoutSeconds: 600,
      packages: false,
      startFailureFile: FAILURE_FILE,
      root,
      ...scenario.options,
    },
    {
      systemctl: async (args): Promise<SystemctlResult> => {
        machine.calls.push(args);
        if (args[0] === 'show') {
          return {
            code: 0,
            output: args[2] === 'NRestarts' ? `${scenario.restarts ?? 0}\n` : '7\n',
          };
        }
        const verb = args.find((a) => !a.startsWith('-')) ?? '';
        if (verb === 'start') scenario.onStart?.(root);
        return {
          code: scenario.fail?.[verb] ?? 0,
          output: verb === 'status' ? 'status lines' : '',
        };
      },
      healthy: async (url) => {
        machine.probes.push(url);
        const n = machine.probes.length;
        if (scenario.record?.at === n) {
          mkdirSync(path.dirname(file(FAILURE_FILE)), { recursive: true });
          writeFileSync(file(FAILURE_FILE), scenario.record.text);
        }
        return scenario.healthy?.(n) ?? true;
      },
      now: () => new Date(clock),
      sleep: async (ms) => {
        machine.slept += ms;
        clock += ms + 250; // a probe takes time too
      },
      say: (line) => machine.lines.push(`out: gitstrap: ${line}`),
      print: (text) => machine.lines.push(`out: ${text}`),
      warn: (line) => machine.lines.push(`err: gitstrap: error: ${line}`),
    },
  );
  const resultFile = file(INSTANCE_PATHS.result);
  const result = existsSync(resultFile)
    ? (JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>)
    : undefined;
  return { ...machine, code, result, file };
}

const steps = (lines: string[]) =>
  lines.flatMap((l) => /step (\w+): (started|done)$/.exec(l)?.slice(1, 3).join(' ') ?? []);

describe('bootstrap first-boot, once the agent is installed', () => {
  test('writes the unit, starts it, waits for healthz and records success', async (t) => {
    const run = await finish(t, {
      before: (root) => {
        mkdirSync(path.join(root, '/var/lib/gitstrap'), { recursive: true });
        writeFileSync(path.join(root, INSTANCE_PATHS.expiresAt), '2030-01-02T03:04:05Z\n');
        mkdirSync(path.join(root, '/var/lib/gitstrap/open-qa'), { recursive: true });
        writeFileSync(path.join(root, FAILURE_FILE), '{"step":"clone"}\n'); // an earlier run's
      },
    });
    assert.equal(run.code, 0, run.lines.join('\n'));
    assert.deepEqual(run.result, {
      result: 'success',
      recipe: 'open-qa',
      at: '2026-12-02T10:00:00Z',
      expiresAt: '2030-01-02T03:04:05Z',
    });
    assert.equal(statSync(run.file(INSTANCE_PATHS.result)).mode & 0o777, 0o644);
    assert.deepEqual(steps(run.lines), [
      'recipe started',
      'recipe done',
      'service started',
      'service done',
      'health started',
      'health done',
    ]);
    assert.ok(run.lines.includes('out: gitstrap: the agent answers on port 80'));
    assert.equal(run.lines.at(-1), 'out: gitstrap: bootstrap succeeded');
    // A fresh machine: systemd reads the new unit as it starts it, without a daemon-reload.
    assert.deepEqual(run.calls, [
      ['enable', '--no-reload', 'gitstrap@open-qa.service'],
      ['start', 'gitstrap@open-qa.service'],
    ]);
    assert.deepEqual(run.probes, ['http://127.0.0.1:80/_gitstrap/healthz']);
    assert.equal(
      readFileSync(run.file(INSTANCE_PATHS.agentUnit), 'utf8'),
      agentUnitText({ packages: false }),
    );
    assert.equal(statSync(run.file(INSTANCE_PATHS.agentUnit)).mode & 0o777, 0o644);
    assert.ok(!existsSync(run.file(FAILURE_FILE)), "an earlier run's record is removed first");
  });

  test('no ttl: the success record has no expiresAt', async (t) => {
    const run = await finish(t);
    assert.deepEqual(Object.keys(run.result ?? {}), ['result', 'recipe', 'at']);
  });

  test('the unit runs the package step as root only for a recipe with packages steps; systemd accepts both', (t) => {
    const root = tempDir(t);
    for (const packages of [false, true]) {
      const text = agentUnitText({ packages });
      assert.equal(
        text.includes(
          `ExecStartPre=+${INSTANCE_PATHS.bin} packages --recipe ${INSTANCE_PATHS.recipesDir}/%i.yaml`,
        ),
        packages,
      );
      assert.match(text, /^User=gitstrap$/m);
      assert.match(text, /^Environment=NODE_OPTIONS=\S+ MALLOC_ARENA_MAX=\d+$/m);
      mkdirSync(path.join(root, INSTANCE_PATHS.unitDir), { recursive: true });
      writeFileSync(path.join(root, INSTANCE_PATHS.agentUnit), text);
      const verify = verifyUnits(root, ['gitstrap@open-qa.service'], [INSTANCE_PATHS.bin]);
      assert.equal(verify.status, 0, verify.output);
      assert.equal(verify.output, '');
    }
  });

  test('a unit already there (an operator edited it) is kept', async (t) => {
    const run = await finish(t, {
      before: (root) => {
        mkdirSync(path.join(root, INSTANCE_PATHS.unitDir), { recursive: true });
        writeFileSync(path.join(root, INSTANCE_PATHS.agentUnit), '# mine\n');
      },
    });
    assert.equal(run.code, 0);
    assert.equal(readFileSync(run.file(INSTANCE_PATHS.agentUnit), 'utf8'), '# mine\n');
  });

  test('a unit the script started: a record the agent wrote since is kept, and ends first boot at once', async (t) => {
    const record = JSON.stringify({ result: 'failure', step: 'recipe', exitCode: 2, at: 'x' });
    const run = await finish(t, {
      before: (root) => {
        mkdirSync(path.join(root, INSTANCE_PATHS.unitDir), { recursive: true });
        writeFileSync(
          path.join(root, INSTANCE_PATHS.agentUnit),
          agentUnitText({ packages: false }),
        );
        mkdirSync(path.dirname(path.join(root, FAILURE_FILE)), { recursive: true });
        writeFileSync(path.join(root, FAILURE_FILE), record);
      },
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.result, JSON.parse(record));
    assert.deepEqual(run.probes, []);
  });

  test("a unit it writes: an earlier run's record goes first", async (t) => {
    const run = await finish(t, {
      before: (root) => {
        mkdirSync(path.dirname(path.join(root, FAILURE_FILE)), { recursive: true });
        writeFileSync(path.join(root, FAILURE_FILE), '{"result":"failure","step":"clone"}');
      },
    });
    assert.equal(run.code, 0);
    assert.equal(run.result?.result, 'success');
  });

  test('an IPv6 health host is bracketed; the poll runs every 0.5 s until the agent answers', async (t) => {
    const run = await finish(t, { healthy: (n) => n === 4, options: { healthHost: '::1' } });
    assert.equal(run.code, 0);
    assert.deepEqual(run.probes, Array(4).fill('http://[::1]:80/_gitstrap/healthz'));
    assert.equal(run.slept, 1500);
  });
});

describe('bootstrap first-boot says which step failed', () => {
  const assertFailure = (
    run: Awaited<ReturnType<typeof finish>>,
    step: string,
    exitCode: number,
  ) => {
    assert.equal(run.code, exitCode, run.lines.join('\n'));
    assert.deepEqual(run.result, {
      result: 'failure',
      step,
      exitCode,
      at: run.result?.at,
    });
    assert.match(String(run.result?.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(run.lines.slice(-2), [
      `out: gitstrap: bootstrap failed at step ${step}`,
      `out: gitstrap: (exit code ${exitCode}; the lines above say why)`,
    ]);
  };

  test('the recipe cloud-init should have written is missing: step recipe, nothing started', async (t) => {
    const run = await finish(t, {
      before: (root) => writeFileSync(path.join(root, '/etc/gitstrap/recipes/open-qa.yaml'), ''),
    });
    assertFailure(run, 'recipe', 1);
    assert.ok(
      run.lines.includes(
        'err: gitstrap: error: /etc/gitstrap/recipes/open-qa.yaml is missing (see write_files)',
      ),
    );
    assert.deepEqual(run.calls, []);
  });

  test('systemd cannot start the unit: step service, with its exit code', async (t) => {
    const run = await finish(t, { fail: { start: 5 } });
    assertFailure(run, 'service', 5);
    assert.ok(
      run.lines.includes(
        'err: gitstrap: error: systemctl start gitstrap@open-qa.service failed (exit 5)',
      ),
    );
  });

  test('the package step (ExecStartPre) fails and records why: the record is the result', async (t) => {
    const record = {
      result: 'failure',
      step: 'install:php',
      exitCode: 1,
      at: '2026-12-02T10:00:05Z',
      message: 'apt-get install php-cli failed',
    };
    const run = await finish(t, {
      options: { packages: true },
      fail: { start: 1 },
      onStart: (root) => {
        mkdirSync(path.join(root, '/var/lib/gitstrap/open-qa'), { recursive: true });
        writeFileSync(path.join(root, FAILURE_FILE), JSON.stringify(record));
      },
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.result, record);
    assert.equal(run.lines.at(-2), 'out: gitstrap: bootstrap failed at step install:php');
    assert.match(
      readFileSync(run.file(INSTANCE_PATHS.agentUnit), 'utf8'),
      /^ExecStartPre=\+\/usr\/local\/bin\/bootstrap packages /m,
    );
  });

  test('the agent records a failing install step: it ends at once, the record is the result', async (t) => {
    const record = {
      result: 'failure',
      step: 'install:build',
      exitCode: 3,
      at: '2026-11-22T08:00:00Z',
      message: 'install step "build" failed: exit code 2',
      details: ['compiling', 'error: no'],
    };
    const run = await finish(t, {
      healthy: () => false,
      record: { at: 2, text: JSON.stringify(record) + '\n' },
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.result, record);
    assert.equal(run.probes.length, 2, 'it does not wait out the health timeout');
    assert.ok(
      run.lines.includes(
        'err: gitstrap: error: the agent could not start the service: install:build: install step "build" failed: exit code 2\ncompiling\nerror: no; see journalctl -u gitstrap@open-qa (systemd keeps retrying)',
      ),
      run.lines.join('\n'),
    );
    assert.deepEqual(run.lines.slice(-2), [
      'out: gitstrap: bootstrap failed at step install:build',
      'out: gitstrap: (exit code 1; the lines above say why)',
    ]);
  });

  test('an unreadable record still ends first boot at once, as step health', async (t) => {
    const run = await finish(t, { healthy: () => false, record: { at: 1, text: '{"res' } });
    assertFailure(run, 'health', 1);
    assert.equal(run.probes.length, 1);
  });

  test('an agent that never answers: step health after the timeout, with the unit status', async (t) => {
    const run = await finish(t, { healthy: () => false, options: { healthTimeoutSeconds: 3 } });
    assertFailure(run, 'health', 1);
    // A poll every 0.5 s (plus the probe's own time) for 3 s: a handful, not one and not a flood.
    assert.ok(run.probes.length >= 4 && run.probes.length <= 8, `${run.probes.length} probes`);
    assert.deepEqual(run.calls.at(-1), [
      '--no-pager',
      '--lines=30',
      'status',
      'gitstrap@open-qa.service',
    ]);
    assert.ok(run.lines.includes('out: status lines'));
    assert.ok(
      run.lines.includes(
        'err: gitstrap: error: no 200 from http://127.0.0.1:80/_gitstrap/healthz in 3s: see journalctl -u gitstrap@open-qa',
      ),
    );
  });

  test('an agent that keeps crashing without a record: step health after 3 restarts, not the timeout', async (t) => {
    const run = await finish(t, { healthy: () => false, restarts: 3 });
    assertFailure(run, 'health', 1);
    assert.equal(run.probes.length, 1);
    assert.deepEqual(
      run.calls.filter((c) => c[0] === 'show'),
      [
        ['show', '-p', 'NRestarts', '--value', 'gitstrap@open-qa.service'],
        ['show', '-p', 'ExecMainStatus', '--value', 'gitstrap@open-qa.service'],
      ],
    );
    assert.ok(
      run.lines.includes(
        'err: gitstrap: error: the agent exited 3 times without serving or saying why (last exit status 7): see journalctl -u gitstrap@open-qa',
      ),
    );
  });
});
