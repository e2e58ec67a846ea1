// The shipped recipes/open-qa.yaml, unchanged but for --set of its repos (and port and state root),
// run by the real agent under real php -S against a stand-in for upstream eucalyptus/open-qa with
// its traits (fixtures/open-qa/service): no index page; relative includes and `cat ./webcache/...`
// reads; a committed webcache/.gitignore where the data mount goes; and line 89 of open_qa-lib.php,
// which PHP >= 7 refuses to compile. The data repo ships cache_storage_for_open_qa.tar.gz.
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { commitFiles, git } from '../helpers/git.js';
import { waitFor } from '../helpers/proc.js';
import { requireTool } from '../helpers/tools.js';
import { get, startRecipeAgent, type RunningAgent } from './harness.js';
import {
  makeOpenQaLfsData,
  makeOpenQaRepos,
  OPEN_QA_RECIPE,
  openQaServiceFiles,
  openQaTarball,
  phpDates,
  type QaRecord,
} from './open-qa-fixture.js';

/** The problems of a dashboard page that should show `names`: what is missing or wrong. */
function pageProblems(page: { status: number; body: string }, names: readonly string[]): string[] {
  const problems: string[] = [];
  if (page.status !== 200) problems.push(`status ${page.status}`);
  if (!page.body.trimEnd().endsWith('</html>')) problems.push('no closing </html> (a half page)');
  if (/Fatal error|Parse error/.test(page.body)) problems.push('a PHP error in the page');
  for (const name of names) if (!page.body.includes(name)) problems.push(`no ${name}`);
  return problems;
}

const servicePid = (agent: RunningAgent) =>
  agent.waitForLog('service.start').then((l) => Number(l.pid));

describe('open-qa: the shipped recipe against the upstream stand-in', () => {
  test('boots into the dashboard on /, with every record; a data update shows without a failed or half page', async (t) => {
    requireTool('php', 'php-cli');
    const { today, yesterday, older } = await phpDates();
    const records: QaRecord[] = [
      { date: yesterday, test: 'kyo-ui-test', uid: 1234 },
      { date: yesterday, test: 'vic-ebs-stress', uid: 1235, stage: 'failed' },
      { date: today, test: 'tony-pkg-build', uid: 1301 },
      { date: today, test: 'qa-san-multipath', uid: 1302, stage: 'running' },
      { date: older, test: 'old-three-days-ago', uid: 999 },
    ];
    const shown = records.filter((r) => r.date !== older).map((r) => r.test);
    const repos = await makeOpenQaRepos(t, openQaServiceFiles(), records);
    const agent = await startRecipeAgent(t, repos.dir, OPEN_QA_RECIPE, repos.sets);

    const page = await get(`${agent.url}/`);
    assert.deepEqual(pageProblems(page, shown), [], page.body);
    assert.ok(!page.body.includes('old-three-days-ago'), 'only yesterday and today are listed');
    assert.match(page.body, new RegExp(`Tests of <span class="date">${today}</span>`));
    assert.equal((await get(`${agent.url}/_gitstrap/healthz`)).status, 200);
    // The dashboard's own address serves the same page; the data is also under /webcache/.
    assert.deepEqual(pageProblems(await get(`${agent.url}/open_qa.php`), shown), []);
    assert.match(
      (await get(`${agent.url}/webcache/this_date_test_list_${today}.lst`)).body,
      /^tony-pkg-build 1301 /,
    );
    // Both patches applied; the committed webcache/.gitignore gave way to the data mount.
    const patched = agent.logs().filter((l) => l.event === 'step.patch');
    assert.deepEqual(
      patched.map((l) => `${String(l.step)}: ${String(l.result)}`),
      ['php7-duplicate-parameter: applied', 'index-page: applied'],
    );
    const mounted = agent.logs().find((l) => l.event === 'data.mount_replaced');
    assert.deepEqual(mounted?.hidden, ['.gitignore']);
    // The service runs in its checkout (php -S also moves into each page's folder while serving it).
    const checkout = path.join(agent.root, 'service', git(repos.service, 'rev-parse', 'HEAD'));
    assert.equal(readlinkSync(`/proc/${await servicePid(agent)}/cwd`), checkout);
    assert.equal(readlinkSync(path.join(checkout, 'webcache')), '../../data/current');

    // A new nightly tarball, published by `bootstrap sync` while the dashboard is being read.
    const pages: Array<{ status: number; body: string }> = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        pages.push(
          await get(`${agent.url}/`).catch((error: Error) => ({ status: 0, body: error.message })),
        );
      }
    })();
    await waitFor(async () => (pages.length >= 3 ? true : undefined), 'pages before the sync');
    const next = [...records, { date: today, test: 'neil-new-record', uid: 1400 }];
    const commit = commitFiles(repos.data, {
      'cache_storage_for_open_qa.tar.gz': openQaTarball(repos.dir, next),
    });
    const sync = await runCli([
      'sync',
      '--once',
      '--recipe',
      OPEN_QA_RECIPE,
      ...repos.sets.flatMap((s) => ['--set', s]),
      '--root',
      agent.root,
    ]);
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, new RegExp(`^published ${commit.slice(0, 12)} `));
    const seenAt = await waitFor(
      async () => {
        const i = pages.findIndex((p) => p.body.includes('neil-new-record'));
        return i >= 0 && pages.length >= i + 3 ? i : undefined;
      },
      'the new record on the dashboard',
      15_000,
    );
    reading = false;
    await reader;
    assert.ok(seenAt >= 3, 'pages were read before the new version was published');
    pages.forEach((p, i) => assert.deepEqual(pageProblems(p, shown), [], `page ${i + 1}`));
    assert.deepEqual(pageProblems(pages.at(-1)!, [...shown, 'neil-new-record']), []);
  });

  test('the nightly tarball kept in Git LFS: fetched, extracted by the transform and published; an update downloads the new one', async (t) => {
    requireTool('php', 'php-cli');
    requireTool('git-lfs', 'git-lfs');
    const { today } = await phpDates();
    const records: QaRecord[] = [
      { date: today, test: 'kyo-ui-test', uid: 1234 },
      { date: today, test: 'vic-ebs-stress', uid: 1235, stage: 'failed' },
    ];
    const repos = await makeOpenQaRepos(t, openQaServiceFiles(), []);
    const lfs = await makeOpenQaLfsData(t, repos.dir, records);
    assert.match(
      git(lfs.data, 'show', 'HEAD:cache_storage_for_open_qa.tar.gz'),
      /^version https:\/\/git-lfs/,
    );
    const sets = [repos.sets[0]!, `data.repo=${lfs.url}`, 'data.lfs=true'];
    const agent = await startRecipeAgent(t, repos.dir, OPEN_QA_RECIPE, sets);
    const page = await get(`${agent.url}/`);
    assert.deepEqual(pageProblems(page, ['kyo-ui-test', 'vic-ebs-stress']), [], page.body);
    const status = JSON.parse((await get(`${agent.url}/_gitstrap/status.json`)).body);
    assert.equal(status.data.lfs.files, 1);
    assert.equal(lfs.server.downloaded().length, 1);

    const commit = lfs.publish([...records, { date: today, test: 'neil-new-record', uid: 1400 }]);
    const sync = await runCli([
      'sync',
      '--once',
      '--recipe',
      OPEN_QA_RECIPE,
      ...sets.flatMap((s) => ['--set', s]),
      '--root',
      agent.root,
    ]);
    assert.equal(sync.code, 0, sync.stderr);
    assert.match(sync.stdout, new RegExp(`^published ${commit.slice(0, 12)} `));
    assert.equal(lfs.server.downloaded().length, 2, 'the new tarball, and only it');
    await waitFor(
      async () =>
        (await get(`${agent.url}/`)).body.includes('neil-new-record') ? true : undefined,
      'the new record on the dashboard',
      15_000,
    );
  });

  test('the stand-in has upstream faults: without the patch steps / is a 404 and the dashboard a half page', async (t) => {
    requireTool('php', 'php-cli');
    const { today } = await phpDates();
    const repos = await makeOpenQaRepos(t, openQaServiceFiles(), [
      { date: today, test: 'kyo-ui-test', uid: 1234 },
    ]);
    // The shipped recipe with its php package step only (as it was before the patches).
    const agent = await startRecipeAgent(
      t,
      repos.dir,
      OPEN_QA_RECIPE,
      [...repos.sets, 'service.install=[{name: php, packages: {apt: [php-cli], dnf: [php-cli]}}]'],
      { waitFor: 'listening' },
    );
    await agent.waitForLog('service.down', (l) => l.problem === 'HTTP 404');
    const health = await get(`${agent.url}/_gitstrap/healthz`);
    assert.equal(health.status, 503);
    assert.match(health.body, /service not answering 2xx: HTTP 404/);
    assert.equal((await get(`${agent.url}/`)).status, 404);
    const dashboard = await get(`${agent.url}/open_qa.php`);
    assert.equal(dashboard.status, 200, 'PHP had sent the first half when the include failed');
    assert.deepEqual(pageProblems(dashboard, ['kyo-ui-test']), [
      'no closing </html> (a half page)',
      'no kyo-ui-test',
    ]);
    await agent.waitForLog('service.output', (l) =>
      /Redefinition of parameter \$test_date in .*open_qa-lib\.php on line 89/.test(String(l.line)),
    );
  });

  test('an upstream that changed under the patch: the agent stops naming the step, file and hunk', async (t) => {
    const files = openQaServiceFiles();
    const lib = files['open_qa-lib.php']!.toString('utf8');
    // Upstream fixed the line its own way: the recipe's patch no longer applies.
    files['open_qa-lib.php'] = Buffer.from(
      lib.replace('($test_date, $test_time,', '($first_date, $test_time,'),
    );
    const repos = await makeOpenQaRepos(t, files, [
      { date: '2013-05-02', test: 'kyo-ui-test', uid: 1 },
    ]);
    const agent = await startRecipeAgent(t, repos.dir, OPEN_QA_RECIPE, repos.sets, {
      waitFor: 'nothing',
    });
    assert.equal(await agent.proc.exited, 3);
    const output = agent.proc.output();
    assert.match(
      output,
      /error: install step "php7-duplicate-parameter": the patch does not apply to the service at [0-9a-f]{12}: open_qa-lib\.php, hunk 1 \(@@ -89 \+89 @@\): the service checkout does not have the lines this hunk changes/,
    );
    assert.match(
      output,
      /hint: the service repo may have changed upstream since the patch was written/,
    );
    const failure = JSON.parse(readFileSync(path.join(agent.root, 'start-failure.json'), 'utf8'));
    assert.equal(failure.step, 'install:php7-duplicate-parameter');
  });
});
