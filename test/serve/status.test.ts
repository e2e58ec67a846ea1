// The agent's own paths: healthz 503 → 200, status.json, the status page in headless Chromium
// (text and screenshot checked), the webhook, and listen errors.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { SyncResult } from '../../data-sync/src/api.js';
import { createWebhookHandler } from '../../data-sync/src/webhook.js';
import { createAgentServer } from '../../src/serve/index.js';
import type { StatusData } from '../../src/serve/index.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { waitFor } from '../helpers/proc.js';
import { requireTool } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { request, sampleStatus, startServer } from './helpers.js';
import { decodePng } from './png.js';

const SERVICE_COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const DATA_COMMIT = 'f00dbabe0123456789abcdef0123456789abcdef';

function richStatus(): StatusData {
  const now = Date.now();
  const sync = (
    minutesAgo: number,
    outcome: SyncResult['outcome'],
    extra: Partial<SyncResult> = {},
  ): SyncResult => ({
    outcome,
    commit: DATA_COMMIT,
    startedAt: new Date(now - minutesAgo * 60_000 - 1200).toISOString(),
    finishedAt: new Date(now - minutesAgo * 60_000).toISOString(),
    durationMs: 1200,
    trigger: 'schedule',
    ...extra,
  });
  return sampleStatus({
    recipe: { name: 'qa-dashboard', description: 'Nightly QA results', runtime: 'site' },
    service: {
      repo: 'https://deploy:s3cr3t-token@git.example.test/qa.git',
      ref: 'main',
      commit: SERVICE_COMMIT,
      state: 'running',
    },
    data: {
      repo: 'git://127.0.0.1/qa-data',
      ref: 'main',
      mount: 'webcache',
      commit: DATA_COMMIT,
      nextSync: new Date(now + 25 * 60_000).toISOString(),
      history: [
        sync(5, 'published', { trigger: 'webhook' }),
        sync(65, 'failed', {
          phase: 'check',
          error: 'results.json is not valid JSON',
          commit: undefined,
        }),
        sync(125, 'unchanged'),
      ],
    },
    startedAt: new Date(now - 3 * 3_600_000).toISOString(),
    expiresAt: new Date(now + 2 * 3_600_000 + 5 * 60_000).toISOString(),
    agentVersion: '0.1.0',
  });
}

describe('agent paths', () => {
  test('healthz answers 503 with reasons until healthy, then 200', async (t) => {
    let health = { ok: false, reasons: ['service is installing', 'no data version yet'] };
    const { port } = await startServer(t, { runtime: 'static', health: () => health });
    const early = await request(port, '/_gitstrap/healthz');
    assert.equal(early.status, 503);
    assert.deepEqual(JSON.parse(early.text), health);
    assert.equal(early.headers['cache-control'], 'no-store');
    assert.equal(early.headers['x-content-type-options'], 'nosniff');
    health = { ok: true, reasons: [] };
    const ready = await request(port, '/_gitstrap/healthz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { ok: true, reasons: [] });
    assert.equal((await request(port, '/_gitstrap/healthz', { method: 'HEAD' })).status, 200);
  });

  test('status.json gives the status with health, time left, and repo credentials redacted', async (t) => {
    const status = richStatus();
    const { port } = await startServer(t, { runtime: 'site', status: () => status });
    const answer = await request(port, '/_gitstrap/status.json');
    assert.equal(answer.status, 200);
    const json = JSON.parse(answer.text) as StatusData & {
      data: NonNullable<StatusData['data']>;
      health: { ok: boolean };
      timeLeftMs: number;
    };
    assert.equal(json.recipe.name, 'qa-dashboard');
    assert.equal(json.service.commit, SERVICE_COMMIT);
    assert.equal(json.service.repo, 'https://***@git.example.test/qa.git');
    assert.ok(!answer.text.includes('s3cr3t'));
    assert.equal(json.data.commit, DATA_COMMIT);
    assert.equal(json.data.history.length, 3);
    assert.equal(json.health.ok, true);
    assert.ok(json.timeLeftMs > 2 * 3_600_000 && json.timeLeftMs <= 2 * 3_600_000 + 5 * 60_000);
  });

  test(
    'the status page renders in headless Chromium with its key content',
    { timeout: 120_000 },
    async (t) => {
      const executablePath = requireTool('chromium', 'chromium');
      const status = richStatus();
      const { url } = await startServer(t, { runtime: 'site', status: () => status });
      const dir = tempDir(t);
      const context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
        executablePath,
        headless: true,
        viewport: { width: 1000, height: 900 },
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        timeout: 30_000,
      });
      // Bounded: a browser that does not close in time is killed when this test process exits.
      t.after(() =>
        Promise.race([context.close(), new Promise((r) => setTimeout(r, 15_000).unref())]),
      );
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('requestfailed', (r) => problems.push(`failed: ${r.url()}`));
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      const response = await page.goto(url('/_gitstrap/'), { timeout: 20_000 });
      assert.equal(response?.status(), 200);
      const text = await page.innerText('body');
      for (const expected of [
        'qa-dashboard',
        'healthy',
        'Nightly QA results',
        SERVICE_COMMIT,
        DATA_COMMIT,
        'Time left',
        'published',
        'failed',
        'check: results.json is not valid JSON',
        '/webcache/',
      ]) {
        assert.ok(text.includes(expected), `the page shows ${JSON.stringify(expected)}:\n${text}`);
      }
      assert.match(text, /Time left\s+2h [45]m/, 'the ttl countdown');
      assert.match(text, /Next sync\s+in 2[45]m/);
      assert.ok(!text.includes('s3cr3t'), 'no credentials on the page');
      assert.deepEqual(problems, [], 'no console errors (e.g. CSP refusing the inline styles)');
      assert.deepEqual(
        requested.filter((r) => !r.startsWith(url('/'))),
        [],
        'no external assets',
      );

      const file = path.join(dir, 'status.png');
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(existsSync(file) && statSync(file).size > 10_000, 'a non-trivial PNG');
      const image = decodePng(readFileSync(file));
      assert.ok(image.width >= 1000 && image.height >= 600, `${image.width}x${image.height}`);
      const colours = new Map<string, number>();
      for (let y = 0; y < image.height; y += 2) {
        for (let x = 0; x < image.width; x += 2) {
          const key = image.rgb(x, y).join(',');
          colours.set(key, (colours.get(key) ?? 0) + 1);
        }
      }
      const samples = [...colours.values()].reduce((a, b) => a + b, 0);
      const background = Math.max(...colours.values());
      assert.ok(colours.size > 50, `many colours (text, badges, tables): ${colours.size}`);
      assert.ok(background / samples < 0.95, 'not a blank page');
      const green = [...colours.keys()].some((k) => {
        const [r, g, b] = k.split(',').map(Number) as [number, number, number];
        return Math.abs(r - 0x1a) < 8 && Math.abs(g - 0x7f) < 8 && Math.abs(b - 0x37) < 8;
      });
      assert.ok(green, 'the green "healthy" badge is drawn (the inline CSS applied)');
    },
  );

  test('the webhook gets the raw body; 404 without one; 405 for GET; 413 over the limit', async (t) => {
    const none = await startServer(t, { runtime: 'static' });
    assert.equal(
      (await request(none.port, '/_gitstrap/hooks/sync', { method: 'POST', body: '{}' })).status,
      404,
    );

    const calls: Array<{ headers: Record<string, unknown>; body: Buffer }> = [];
    const { port } = await startServer(t, {
      runtime: 'static',
      maxBody: '1kb',
      webhook: async (headers, body) => {
        calls.push({ headers, body });
        return { status: 202, body: 'sync queued\n' };
      },
    });
    const payload = Buffer.from('{"ref":"refs/heads/main","bytes":"\u00e9\u0000"}');
    const answer = await request(port, '/_gitstrap/hooks/sync', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': 'sha256=abc' },
      body: payload,
    });
    assert.equal(answer.status, 202);
    assert.equal(answer.text, 'sync queued\n');
    assert.equal(calls.length, 1);
    assert.ok(calls[0]!.body.equals(payload), 'the exact bytes, for the signature check');
    assert.equal(calls[0]!.headers['x-hub-signature-256'], 'sha256=abc');
    const get = await request(port, '/_gitstrap/hooks/sync');
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    const big = await request(port, '/_gitstrap/hooks/sync', {
      method: 'POST',
      body: Buffer.alloc(2048),
    });
    assert.equal(big.status, 413);
    assert.equal(calls.length, 1, 'the handler never saw the oversize body');
    assert.equal((await request(port, '/_gitstrap/nothing')).status, 404);
    const bare = await request(port, '/_gitstrap');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/_gitstrap/');
  });

  test("data-sync's webhook handler, mounted: a signed push queues a sync, a bad one does not", async (t) => {
    const dir = tempDir(t);
    const secretFile = path.join(dir, 'webhook-secret');
    writeFileSync(secretFile, 'shh-its-a-secret\n', { mode: 0o600 });
    let triggered = 0;
    const { port } = await startServer(t, {
      runtime: 'static',
      webhook: createWebhookHandler({ secretFile, trigger: () => triggered++ }),
    });
    const body = '{"ref":"refs/heads/main"}';
    const signature = `sha256=${createHmac('sha256', 'shh-its-a-secret').update(body).digest('hex')}`;
    const bad = await request(port, '/_gitstrap/hooks/sync', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Hub-Signature-256': 'sha256=' + '0'.repeat(64),
      },
      body,
    });
    assert.equal(bad.status, 401);
    const good = await request(port, '/_gitstrap/hooks/sync', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Hub-Signature-256': signature,
        'X-GitHub-Event': 'push',
      },
      body,
    });
    assert.equal(good.status, 202);
    await waitFor(async () => (triggered === 1 ? true : undefined), 'the sync trigger', 5000, 20);
  });

  test('a port already in use is one clear error', async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const taken = (blocker.address() as net.AddressInfo).port;
    const server = createAgentServer({
      runtime: 'static',
      serviceDir: () => undefined,
      status: () => sampleStatus(),
      health: () => ({ ok: true, reasons: [] }),
    });
    await assert.rejects(server.listen(taken, '127.0.0.1'), (error: unknown) => {
      assert.ok(error instanceof GitstrapError);
      assert.equal(error.message, `port ${taken} on 127.0.0.1 is already in use`);
      assert.match(String(error.hint), /serve\.port/);
      return true;
    });
    await server.close();
  });
});
