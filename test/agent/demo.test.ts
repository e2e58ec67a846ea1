// `npm run demo` as a person runs it: the page shows the data, changes after a data commit, and
// Ctrl-C leaves no process and no temp folder behind.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startProcess, waitFor } from '../helpers/proc.js';
import { projectRoot } from '../helpers/tools.js';
import { get } from './harness.js';

/** PIDs of processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('npm run demo: a live dashboard from local repos; Ctrl-C stops everything it started', async (t) => {
  const demo = startProcess(
    t,
    process.execPath,
    ['scripts/demo.mjs', '--port', '0', '--interval', '2'],
    { cwd: projectRoot },
  );
  const url = await waitFor(
    async () => /the dashboard is live at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.output())?.[1],
    'the demo URL',
    30_000,
  );
  const tmp = path.dirname(/git repos in (\S+)/.exec(demo.output())![1]!);
  t.after(() => {
    for (const pid of processesMentioning(tmp)) process.kill(pid, 'SIGKILL');
  });

  const page = await get(url);
  assert.equal(page.status, 200);
  assert.match(page.body, /<h1>Open QA \(gitstrap demo\)<\/h1>/);
  const latest = (body: string) =>
    Number(/<div class="label">Latest run<\/div>\s*<div class="value">#(\d+)</.exec(body)?.[1]);
  const first = latest(page.body);
  assert.ok(first >= 8, 'the shipped results (8 runs) or newer');
  assert.match(page.body, /<td>#8<\/td>/);
  assert.equal((await get(`${url}assets/style.css`)).status, 200);

  await waitFor(
    async () => (latest((await get(url)).body) > first ? true : undefined),
    'a newer run on the page',
    30_000,
  );
  assert.match(demo.output(), /demo: committed run #9/);
  assert.ok(processesMentioning(tmp).length >= 2, 'the agent and git daemon run');

  demo.child.kill('SIGINT');
  assert.equal(await demo.exited, 0);
  assert.match(demo.output(), /demo: stopped; removed /);
  assert.deepEqual(processesMentioning(tmp), []);
  assert.equal(existsSync(tmp), false);
});
