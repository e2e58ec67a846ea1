import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ensurePackages,
  parseMissing,
  planInstall,
  planQuery,
  selectPackages,
  type PackageCommand,
  type PackageContext,
  type PackageRunner,
} from '../../src/agent/packages.js';
import { installRecipePackages } from '../../src/agent/recipe-packages.js';
import type { GitstrapError } from '../../src/lib/errors.js';
import { memoryLogger } from '../../src/lib/log.js';
import { parseRecipe } from '../../src/recipe/load.js';

describe('package commands (planners)', () => {
  test('apt: dpkg-query to check, apt-get update + install to install, non-interactive', () => {
    assert.deepEqual(planQuery('apt', ['php-cli', 'git']), {
      argv: ['dpkg-query', '-W', '-f=${Package}\t${db:Status-Abbrev}\n', '--', 'php-cli', 'git'],
      env: {},
    });
    assert.deepEqual(planInstall('apt', ['php-cli']), [
      { argv: ['apt-get', 'update', '-q'], env: { DEBIAN_FRONTEND: 'noninteractive' } },
      {
        argv: ['apt-get', 'install', '-y', '-q', '--no-install-recommends', '--', 'php-cli'],
        env: { DEBIAN_FRONTEND: 'noninteractive' },
      },
    ]);
  });

  test('dnf: rpm -q to check, dnf install -y to install', () => {
    assert.deepEqual(planQuery('dnf', ['php-cli']).argv, ['rpm', '-q', '--', 'php-cli']);
    assert.deepEqual(planInstall('dnf', ['php-cli', 'git']), [
      { argv: ['dnf', 'install', '-y', '-q', '--', 'php-cli', 'git'], env: {} },
    ]);
  });

  test('the {apt, dnf} form picks the list for the package manager; a plain list is for both', () => {
    const both = { apt: ['php-cli', 'php-sqlite3'], dnf: ['php-cli', 'php-pdo'] };
    assert.deepEqual(selectPackages(both, 'apt'), ['php-cli', 'php-sqlite3']);
    assert.deepEqual(selectPackages(both, 'dnf'), ['php-cli', 'php-pdo']);
    assert.deepEqual(selectPackages({ apt: ['x'] }, 'dnf'), []);
    assert.deepEqual(selectPackages(['git'], 'dnf'), ['git']);
  });

  test('reads what is missing from dpkg-query and rpm output', () => {
    const dpkg = 'php-cli\tii \ngit\tii \ncurl\trc \n';
    assert.deepEqual(parseMissing('apt', ['php-cli', 'git', 'curl', 'wrk', 'git:amd64'], dpkg), [
      'curl',
      'wrk',
    ]);
    const rpm = 'php-cli-8.2.1-1.fc39.x86_64\npackage wrk is not installed\n';
    assert.deepEqual(parseMissing('dnf', ['php-cli', 'wrk'], rpm), ['wrk']);
  });
});

/** A package manager stand-in: a set of installed names, answering the planned commands. */
function standIn(
  installed: Set<string>,
  fail?: string,
): { run: PackageRunner; calls: PackageCommand[] } {
  const calls: PackageCommand[] = [];
  const run: PackageRunner = async (command, onLine) => {
    calls.push(command);
    const [program, ...args] = command.argv;
    const names = args.slice(args.indexOf('--') + 1);
    let output = '';
    let code = 0;
    if (program === 'dpkg-query') {
      output = names
        .filter((n) => installed.has(n))
        .map((n) => `${n}\tii \n`)
        .join('');
      code = names.every((n) => installed.has(n)) ? 0 : 1;
    } else if (program === 'apt-get' && args[0] === 'install') {
      if (fail && names.includes(fail)) {
        output = `E: Unable to locate package ${fail}\n`;
        code = 100;
      } else names.forEach((n) => installed.add(n));
    }
    for (const line of output.split('\n').filter(Boolean)) onLine(line);
    return {
      code,
      signal: null,
      timedOut: false,
      aborted: false,
      tail: output.split('\n').filter(Boolean),
      durationMs: 1,
      output,
    };
  };
  return { run, calls };
}

function context(run: PackageRunner, isRoot: boolean): PackageContext {
  return {
    kind: 'apt',
    isRoot,
    run,
    logger: memoryLogger(),
    rootCommand: 'bootstrap packages --recipe open-qa',
  };
}

describe('ensurePackages', () => {
  test('as root, installs only what is missing, and is idempotent', async () => {
    const pm = standIn(new Set(['git']));
    const first = await ensurePackages('php', ['git', 'php-cli'], context(pm.run, true));
    assert.deepEqual(first.installed, ['php-cli']);
    assert.ok(
      pm.calls.some(
        (c) => c.argv.join(' ') === 'apt-get install -y -q --no-install-recommends -- php-cli',
      ),
    );
    pm.calls.length = 0;
    const again = await ensurePackages('php', ['git', 'php-cli'], context(pm.run, true));
    assert.deepEqual(again.installed, []);
    assert.deepEqual(
      pm.calls.map((c) => c.argv[0]),
      ['dpkg-query'],
    );
  });

  test('not root: installed packages pass; missing ones fail saying to run bootstrap packages with sudo', async () => {
    const pm = standIn(new Set(['git']));
    await ensurePackages('git', ['git'], context(pm.run, false));
    await assert.rejects(
      ensurePackages('php', ['git', 'php-cli'], context(pm.run, false)),
      (error: GitstrapError) => {
        assert.equal(
          error.message,
          'install step "php": packages not installed: php-cli (installing them needs root)',
        );
        assert.match(error.hint ?? '', /^run: sudo bootstrap packages --recipe open-qa/);
        return true;
      },
    );
    assert.ok(!pm.calls.some((c) => c.argv[0] === 'apt-get'), 'never calls apt-get when not root');
  });

  test('a failing install names the step and shows the package manager output', async () => {
    const pm = standIn(new Set(), 'no-such-pkg');
    await assert.rejects(
      ensurePackages('tools', ['no-such-pkg'], context(pm.run, true)),
      (error: GitstrapError) => {
        assert.match(error.message, /^install step "tools": apt-get install failed: exit code 100/);
        assert.deepEqual(error.details, ['E: Unable to locate package no-such-pkg']);
        return true;
      },
    );
  });

  test('no package manager: a clear error', async () => {
    const pm = standIn(new Set());
    await assert.rejects(
      ensurePackages('php', ['php-cli'], { ...context(pm.run, true), kind: undefined }),
      /no package manager found \(apt-get or dnf\)/,
    );
  });

  test('installRecipePackages goes through every packages step of a recipe', async () => {
    const { recipe } = parseRecipe(
      `name: two-steps
service:
  repo: /srv/app
  runtime: static
  install:
    - { name: a, packages: { apt: [curl], dnf: [curl-minimal] } }
    - { name: b, run: [make] }
    - { name: c, packages: [git] }
`,
      'r.yaml',
    );
    const pm = standIn(new Set(['git']));
    const reports = await installRecipePackages(recipe!, context(pm.run, true));
    assert.deepEqual(reports, [
      { step: 'a', installed: ['curl'] },
      { step: 'c', installed: [] },
    ]);
  });
});
