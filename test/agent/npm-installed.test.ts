// The agent as users install it from npm: gitstrap packed by `npm pack`, published to a real
// registry on 127.0.0.1 (verdaccio), installed globally by the npm Debian 12 and Ubuntu 24.04 ship
// (9.2, on Node 18.19) with --omit=optional as first boot does; then the runtime tests
// (runtime-cases.ts) run that installed bin on Node 18.19 and on the newest LTS.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { packGitstrap, startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { requireNode18, requireNodeLts, requireNpm9 } from '../helpers/tools.js';
import { runtimeTests } from './runtime-cases.js';

const cleanups: Array<() => unknown> = [];
const suite = { after: (fn: () => unknown) => void cleanups.push(fn) };
let installedBin = '';

before(async () => {
  const dir = tempDir(suite);
  const registry = await startRegistry(suite);
  const spec = await registry.publish(packGitstrap(dir));
  const node18 = requireNode18();
  const prefix = path.join(dir, 'prefix');
  const install = spawnSync(
    node18,
    [
      requireNpm9(),
      'install',
      '--global',
      '--omit=optional',
      '--no-audit',
      '--no-fund',
      '--engine-strict',
      '--registry',
      registry.url,
      '--prefix',
      prefix,
      '--cache',
      path.join(dir, 'npm-cache'),
      spec,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.dirname(node18)}:${process.env.PATH ?? ''}` },
    },
  );
  assert.equal(install.status, 0, `npm install ${spec}: ${install.stderr}`);
  installedBin = path.join(prefix, 'lib/node_modules/gitstrap/bin/bootstrap.js');
  assert.ok(existsSync(installedBin), `npm installed ${spec}, but not ${installedBin}`);
  // Nothing but gitstrap: its libraries are bundled into dist/.
  assert.ok(!existsSync(path.join(prefix, 'lib/node_modules/gitstrap/node_modules')));
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('runtimes: the npm-installed agent on Node 18.19', () => {
  runtimeTests(() => ({ node: requireNode18(), entry: installedBin }));
});

describe('runtimes: the npm-installed agent on the newest Node.js LTS', () => {
  runtimeTests(() => ({ node: requireNodeLts(), entry: installedBin }));
});
