// The push webhook, mounted on a real HTTP server on 127.0.0.1 in front of a real engine: a good
// signature syncs, a bad or missing one gets 401 and changes nothing, a burst coalesces.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  createCoalescingTrigger,
  createWebhookHandler,
  verifyHubSignature,
  type WebhookHandler,
} from '../../data-sync/src/index.js';
import { jsonLogger } from '../../src/lib/log.js';
import { commitFiles } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { dataConfig, makeEngine, servedCommit, startRemote } from './support.js';

const SECRET = 'it is a secret to everybody';
const sign = (body: string, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Serves the handler at POST /_gitstrap/hooks/sync; returns its URL. */
async function serve(t: TestContext, handler: WebhookHandler): Promise<string> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      void handler(req.headers, Buffer.concat(chunks)).then(({ status, body }) =>
        res.writeHead(status, { 'content-type': 'text/plain' }).end(body),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/_gitstrap/hooks/sync`;
}

async function deliver(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('webhook', () => {
  test("GitHub's published example: secret, payload and signature from its docs", () => {
    // docs.github.com, "Validating webhook deliveries", "Testing the webhook payload validation".
    const secret = "It's a Secret to Everybody";
    const body = Buffer.from('Hello, World!');
    const header = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    assert.equal(verifyHubSignature(secret, body, header), true);
    assert.equal(verifyHubSignature(secret, Buffer.from('Hello, World?'), header), false);
    assert.equal(verifyHubSignature("It's a secret to everybody", body, header), false);
  });

  test('verifyHubSignature accepts exactly the HMAC of the body', () => {
    const body = Buffer.from('{"ref":"refs/heads/main"}');
    const good = sign(body.toString());
    assert.equal(verifyHubSignature(SECRET, body, good), true);
    assert.equal(
      verifyHubSignature(Buffer.from(SECRET), body, good.toUpperCase().replace('SHA256', 'sha256')),
      true,
    );
    assert.equal(verifyHubSignature(SECRET, Buffer.from(body.toString() + ' '), good), false);
    assert.equal(verifyHubSignature('other secret', body, good), false);
    assert.equal(verifyHubSignature(SECRET, body, undefined), false);
    assert.equal(verifyHubSignature(SECRET, body, ''), false);
    assert.equal(verifyHubSignature(SECRET, body, good.replace('sha256=', 'sha1=')), false);
    assert.equal(verifyHubSignature(SECRET, body, good.slice(0, -2)), false);
    assert.equal(verifyHubSignature(SECRET, body, `${good}00`), false);
  });

  test('a signed delivery syncs; bad or missing signatures get 401 and change nothing; a burst coalesces', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }));
    assert.equal((await sync.sync('startup')).outcome, 'published');
    const secretFile = path.join(tempDir(t), 'webhook-secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    const trigger = createCoalescingTrigger(() => sync.sync('webhook'));
    const url = await serve(
      t,
      createWebhookHandler({ secretFile, trigger: () => trigger.trigger() }),
    );
    const body = JSON.stringify({ ref: 'refs/heads/main' });

    const second = commitFiles(remote.work, { 'a.txt': 'a2' });
    const unsigned: Array<Record<string, string>> = [
      {},
      { 'x-hub-signature-256': sign(body, 'wrong secret') },
      { 'x-hub-signature-256': 'sha256=nothex' },
      { 'x-hub-signature-256': sign(body + 'tampered') },
    ];
    for (const headers of unsigned) {
      const r = await deliver(url, body, headers);
      assert.equal(r.status, 401, JSON.stringify(headers));
    }
    await trigger.idle();
    assert.equal(trigger.runs(), 0, 'no sync ran');
    assert.equal(sync.history().length, 1);
    assert.equal(servedCommit(dir), remote.first);

    const ping = await deliver(url, body, {
      'x-hub-signature-256': sign(body),
      'x-github-event': 'ping',
    });
    assert.equal(ping.status, 200);
    assert.equal(trigger.runs(), 0);

    const ok = await deliver(url, body, {
      'x-hub-signature-256': sign(body),
      'x-github-event': 'push',
    });
    assert.equal(ok.status, 202);
    await trigger.idle();
    assert.equal(servedCommit(dir), second);
    assert.equal(sync.history()[0]!.trigger, 'webhook');

    const third = commitFiles(remote.work, { 'a.txt': 'a3' });
    const before = trigger.runs();
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => deliver(url, body, { 'x-hub-signature-256': sign(body) })),
    );
    assert.deepEqual(new Set(burst.map((r) => r.status)), new Set([202]));
    await trigger.idle();
    const runs = trigger.runs() - before;
    assert.ok(runs >= 1 && runs <= 2, `12 deliveries, ${runs} syncs`);
    assert.equal(servedCommit(dir), third);
  });

  test('the accepted-request log line keeps its own event name; the GitHub event is githubEvent', async (t) => {
    const secretFile = path.join(tempDir(t), 'webhook-secret');
    writeFileSync(secretFile, SECRET);
    const lines: string[] = [];
    const handle = createWebhookHandler({
      secretFile,
      trigger: () => undefined,
      logger: jsonLogger((line) => void lines.push(line)),
    });
    const body = Buffer.from('{}');
    const signed = { 'x-hub-signature-256': sign('{}') };
    assert.equal(
      (await handle({ ...signed, 'x-github-event': 'push', 'x-github-delivery': 'd-1' }, body))
        .status,
      202,
    );
    assert.equal((await handle(signed, body)).status, 202);
    const [withHeader, without] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(withHeader!.event, 'data.webhook.accepted');
    assert.equal(withHeader!.githubEvent, 'push');
    assert.equal(withHeader!.delivery, 'd-1');
    assert.equal(without!.event, 'data.webhook.accepted');
    assert.equal('githubEvent' in without!, false);
  });

  test('a delivery id seen again within the window is answered 200 and starts no sync', async (t) => {
    const secretFile = path.join(tempDir(t), 'webhook-secret');
    writeFileSync(secretFile, SECRET);
    let clock = 0;
    let pulled = 0;
    const handle = createWebhookHandler({
      secretFile,
      trigger: () => pulled++,
      deliveryWindowMs: 60_000,
      deliveryMemory: 3,
      now: () => clock,
    });
    const body = Buffer.from('{"ref":"refs/heads/main"}');
    const deliver = (id: string) =>
      handle({ 'x-hub-signature-256': sign(body.toString()), 'x-github-delivery': id }, body);
    assert.equal((await deliver('a')).status, 202);
    const again = await deliver('a');
    assert.equal(again.status, 200);
    assert.match(again.body, /delivery a was already accepted; no new sync/);
    assert.equal((await deliver('b')).status, 202);
    await new Promise((r) => setImmediate(r));
    assert.equal(pulled, 2);
    // After the window, the id is forgotten.
    clock += 60_000;
    assert.equal((await deliver('a')).status, 202);
    // At most 3 ids are kept: the oldest goes first.
    for (const id of ['c', 'd', 'e']) assert.equal((await deliver(id)).status, 202);
    assert.equal((await deliver('a')).status, 202, 'a was forgotten to make room');
    assert.equal((await deliver('e')).status, 200, 'e is remembered');
    // A bad signature with a known id is still 401, and does not refresh anything.
    const forged = await handle(
      { 'x-hub-signature-256': sign(body.toString(), 'nope'), 'x-github-delivery': 'e' },
      body,
    );
    assert.equal(forged.status, 401);
  });

  test('a redelivery through the real server does not sync again; a new delivery does', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }));
    const secretFile = path.join(tempDir(t), 'webhook-secret');
    writeFileSync(secretFile, SECRET);
    const trigger = createCoalescingTrigger(() => sync.sync('webhook'));
    const url = await serve(
      t,
      createWebhookHandler({ secretFile, trigger: () => trigger.trigger() }),
    );
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const headers = (id: string) => ({
      'x-hub-signature-256': sign(body),
      'x-github-event': 'push',
      'x-github-delivery': id,
    });
    assert.equal((await deliver(url, body, headers('72d3162e-1'))).status, 202);
    await trigger.idle();
    assert.equal(servedCommit(dir), remote.first);
    const second = commitFiles(remote.work, { 'a.txt': 'a2' });
    const replay = await deliver(url, body, headers('72d3162e-1'));
    assert.equal(replay.status, 200);
    await trigger.idle();
    assert.equal(trigger.runs(), 1, 'the redelivery started no sync');
    assert.equal(servedCommit(dir), remote.first);
    assert.equal((await deliver(url, body, headers('72d3162e-2'))).status, 202);
    await trigger.idle();
    assert.equal(servedCommit(dir), second);
  });

  test('without a readable, non-empty secret the webhook refuses to work', async (t) => {
    const dir = tempDir(t);
    let pulled = 0;
    const body = Buffer.from('{}');
    const missing = createWebhookHandler({
      secretFile: path.join(dir, 'nope'),
      trigger: () => pulled++,
    });
    assert.equal((await missing({ 'x-hub-signature-256': sign('{}') }, body)).status, 500);
    const emptyFile = path.join(dir, 'empty');
    writeFileSync(emptyFile, '\n');
    const empty = createWebhookHandler({ secretFile: emptyFile, trigger: () => pulled++ });
    const emptySig = `sha256=${createHmac('sha256', '').update(body).digest('hex')}`;
    assert.equal((await empty({ 'X-Hub-Signature-256': emptySig }, body)).status, 500);
    assert.equal(pulled, 0);
  });

  test('the coalescing trigger runs at most one at a time plus one waiting', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const trigger = createCoalescingTrigger(async () => {
      runs++;
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
    });
    await Promise.all(Array.from({ length: 20 }, () => trigger.trigger()));
    assert.equal(most, 1);
    assert.equal(runs, 2);
    await trigger.trigger();
    assert.equal(runs, 3);
  });
});
