import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_BUNDLE, runCli } from '../helpers/cli.js';
import { requireNode18 } from '../helpers/tools.js';

test('the instance bundle runs on Node 18 (Debian 12, Ubuntu 24.04)', async () => {
  const node18 = requireNode18();
  const version = await runCli(['--version'], { node: node18, entry: AGENT_BUNDLE });
  assert.equal(version.code, 0, version.stderr);
  const r = await runCli(['validate', '--recipe', 'recipes/open-qa.yaml'], {
    node: node18,
    entry: AGENT_BUNDLE,
  });
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const bad = await runCli(
    ['validate', '--recipe', 'recipes/open-qa.yaml', '--set', 'data.schedule=x'],
    {
      node: node18,
      entry: AGENT_BUNDLE,
    },
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /data\.schedule: expected a cron expression/);
});

test('the instance bundle is self-contained and carries no AWS SDK', () => {
  const text = readFileSync(AGENT_BUNDLE, 'utf8');
  assert.doesNotMatch(text, /require\("@aws-sdk\//);
  assert.doesNotMatch(text, /require\("(express|simple-git|node-cron|handlebars|yaml|zod)"\)/);
  assert.ok(
    statSync(AGENT_BUNDLE).size < 8 * 1024 * 1024,
    'bundle stays small enough to download at boot',
  );
});

test('the instance bundle has only the instance commands', async () => {
  const r = await runCli(['--help'], { entry: AGENT_BUNDLE });
  assert.match(r.stdout, /^ {2}run /m);
  assert.doesNotMatch(r.stdout, /^ {2}launch /m);
});
