import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { expiryOf, parseExpiresAt } from '../../src/agent/expiry.js';
import { healthReport, probeHttp } from '../../src/agent/health.js';
import { fillArgv, fillEnv } from '../../src/lib/placeholders.js';
import { buildStatus } from '../../src/agent/status.js';
import { describeStatus, renderStatusPage, statusJson } from '../../src/serve/status-page.js';
import { parseRecipe } from '../../src/recipe/load.js';
import { tempDir } from '../helpers/tmp.js';

describe('placeholders', () => {
  test('are filled inside argv items without splitting them', () => {
    const values = { port: 8123, service: '/s/a b', data: '/d', state: '/st' };
    assert.deepEqual(
      fillArgv(['php', '-S', '127.0.0.1:{port}', '-t', '{service}', '{unknown}'], values),
      ['php', '-S', '127.0.0.1:8123', '-t', '/s/a b', '{unknown}'],
    );
    assert.deepEqual(fillEnv({ DATA: '{data}/x', S: '{state}' }, values), {
      DATA: '/d/x',
      S: '/st',
    });
  });
});

describe('expiry', () => {
  test('reads expires-at (ISO or epoch seconds), else start + ttl; none without a ttl', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'expires-at');
    const start = new Date('2026-01-01T00:00:00Z');
    assert.equal(expiryOf('2d', start, file)?.toISOString(), '2026-01-03T00:00:00.000Z');
    writeFileSync(file, '2026-02-01T12:00:00Z\n');
    assert.equal(expiryOf('2d', start, file)?.toISOString(), '2026-02-01T12:00:00.000Z');
    writeFileSync(file, '1767225600\n');
    assert.equal(expiryOf('2d', start, file)?.toISOString(), '2026-01-01T00:00:00.000Z');
    assert.equal(expiryOf(undefined, start, file), undefined);
    assert.equal(parseExpiresAt('tomorrow'), undefined);
  });
});

describe('health', () => {
  test('ok only when the service answers, data is live and the failure budget holds', () => {
    const good = { serviceUp: true, dataLive: true, consecutiveSyncFailures: 2, failureBudget: 3 };
    assert.deepEqual(healthReport(good), { ok: true, reasons: [] });
    assert.deepEqual(
      healthReport({ ...good, serviceUp: false, serviceProblem: 'ECONNREFUSED', dataLive: false })
        .reasons,
      ['service not answering 2xx: ECONNREFUSED', 'no data version live yet'],
    );
    assert.deepEqual(healthReport({ ...good, consecutiveSyncFailures: 3 }).reasons, [
      '3 data syncs failed in a row (failure budget 3)',
    ]);
    assert.equal(
      healthReport({ serviceUp: true, consecutiveSyncFailures: 0, failureBudget: 1 }).ok,
      true,
      'no data repo',
    );
  });

  test('the probe wants a 2xx answer', async (t) => {
    const server = http.createServer((req, res) =>
      res.writeHead(req.url === '/up' ? 204 : 302).end(),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const { port } = server.address() as AddressInfo;
    assert.equal(await probeHttp(`http://127.0.0.1:${port}/up`), undefined);
    assert.equal(await probeHttp(`http://127.0.0.1:${port}/moved`), 'HTTP 302');
  });
});

describe('status', () => {
  test('names the recipe, both commits, the recent syncs, the next sync and the end of a ttl', () => {
    const { recipe } = parseRecipe(
      'name: qa\ndescription: QA board\nservice: { repo: /srv/s, runtime: static }\ndata: { repo: /srv/d, mount: results, ref: v2 }\nttl: 1d\n',
      'r.yaml',
    );
    const sync = {
      outcome: 'published' as const,
      commit: 'd'.repeat(40),
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 1000,
      trigger: 'startup' as const,
    };
    assert.deepEqual(
      buildStatus(recipe!, {
        startedAt: new Date('2026-01-01T00:00:00Z'),
        expiresAt: new Date('2026-01-02T00:00:00Z'),
        service: { commit: 's'.repeat(40), state: 'running' },
        data: {
          commit: 'd'.repeat(40),
          history: [sync],
          nextSync: new Date('2026-01-01T00:05:00Z'),
        },
        version: '0.1.0',
      }),
      {
        recipe: { name: 'qa', runtime: 'static', description: 'QA board' },
        service: { repo: '/srv/s', ref: 'main', state: 'running', commit: 's'.repeat(40) },
        data: {
          repo: '/srv/d',
          ref: 'v2',
          mount: 'results',
          history: [sync],
          commit: 'd'.repeat(40),
          nextSync: '2026-01-01T00:05:00.000Z',
        },
        startedAt: '2026-01-01T00:00:00.000Z',
        expiresAt: '2026-01-02T00:00:00.000Z',
        agentVersion: '0.1.0',
      },
    );
  });
});

describe('status of submodules and Git LFS', () => {
  test('shows the submodule commits and LFS totals of what is served, never a credential in a URL', () => {
    const { recipe } = parseRecipe(
      'name: qa\nservice: { repo: https://h.example/s.git, runtime: static, submodules: true }\ndata: { repo: https://h.example/d.git, mount: d, submodules: true, lfs: true, sparse: [a] }\n',
      'r.yaml',
    );
    const theme = { path: 'theme', commit: 'a'.repeat(40), url: 'https://h.example/theme.git' };
    const leaky = {
      path: 'vendor/lib',
      commit: 'b'.repeat(40),
      url: 'https://robot:ghp_abcdefghijklmnopqrstuvwxyz0123456789@h.example/lib.git',
    };
    const lfs = {
      files: 3,
      objects: 2,
      bytes: 3 * 1024 * 1024,
      downloaded: 1,
      outsideSparse: 4,
      outsideSparseBytes: 2048,
    };
    const status = buildStatus(recipe!, {
      startedAt: new Date('2026-01-01T00:00:00Z'),
      service: { commit: 's'.repeat(40), state: 'running', submodules: [theme] },
      data: { commit: 'd'.repeat(40), history: [], submodules: [theme, leaky], lfs },
    });
    assert.deepEqual(status.service.submodules, [theme]);
    assert.deepEqual(status.data?.lfs, lfs);
    const now = new Date('2026-01-01T00:01:00Z');
    const health = { ok: true, reasons: [] };
    const json = JSON.stringify(statusJson(status, health, now));
    const page = renderStatusPage(describeStatus(status, health, now));
    for (const text of [json, page]) assert.doesNotMatch(text, /ghp_abcdefghij/);
    assert.match(json, /"url":"https:\/\/\*\*\*@h\.example\/lib\.git"/);
    assert.match(page, /<code>vendor\/lib<\/code> at <code>bbbbbbbbbbbb<\/code>/);
    assert.match(
      page,
      /<dd>3 files \(2 objects, 3\.0 MB\); 1 downloaded for this version; 4 files \(2\.0 KB\) outside data\.sparse, never downloaded<\/dd>/,
    );
  });
});
