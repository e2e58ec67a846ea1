// One statement of the Node.js versions gitstrap needs (package.json's engines), true for every
// package whose code gitstrap ships (bundled into dist/) or installs (the optional AWS SDK).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import semver from 'semver';
import { projectRoot } from '../helpers/tools.js';

const read = (file: string) => JSON.parse(readFileSync(path.join(projectRoot, file), 'utf8'));
const ours: string = read('package.json').engines.node;

/** The packages whose declared engines do not admit every Node.js that ours admits. */
function disagreeing(packages: Array<{ name: string; version: string; engines?: string | null }>) {
  return packages
    .filter((p) => p.engines && !semver.subset(ours, p.engines))
    .map((p) => `${p.name}@${p.version} wants node ${p.engines}`);
}

test('package.json says Node.js 18.19 or newer, and installs nothing but the optional AWS SDK', () => {
  assert.equal(ours, '>=18.19');
  const manifest = read('package.json');
  assert.equal(manifest.dependencies, undefined, 'libraries are bundled into dist/');
  assert.deepEqual(
    Object.keys(manifest.optionalDependencies ?? {}).filter((n) => !n.startsWith('@aws-sdk/')),
    [],
  );
});

test('every package bundled into dist/ runs on the Node.js versions package.json names', () => {
  const bundled = read('dist/bundled-packages.json') as Array<{
    name: string;
    version: string;
    engines: string | null;
  }>;
  assert.ok(bundled.some((p) => p.name === 'express') && bundled.some((p) => p.name === 'zod'));
  assert.deepEqual(disagreeing(bundled), []);
});

test('every package of the optional AWS SDK tree runs on them too', () => {
  const lock = read('package-lock.json') as {
    packages: Record<
      string,
      { version: string; optional?: boolean; dev?: boolean; engines?: { node?: string } }
    >;
  };
  const optional = Object.entries(lock.packages)
    .filter(([key, p]) => key && p.optional && !p.dev)
    .map(([key, p]) => ({
      name: key.replace(/^.*node_modules\//, ''),
      version: p.version,
      engines: p.engines?.node ?? null,
    }));
  assert.ok(optional.some((p) => p.name === '@aws-sdk/client-ec2'));
  assert.deepEqual(disagreeing(optional), []);
});
