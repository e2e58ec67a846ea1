// What the fast path cannot keep in memory: a rendered site page larger than the cache's file
// limit is still served (200, the right content, ETag, 304, HEAD, compression), just not cached;
// and every path the fast path gives up on is logged with the reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { memoryLogger } from '../../src/lib/log.js';
import { makeTrees, request, startServer } from './helpers.js';

const MiB = 1024 * 1024;
/** 30,000 rows of about 45 bytes: a page of about 1.4 MiB, above the 1 MiB cache limit. */
const ROWS = Array.from({ length: 30_000 }, (_, i) => `row ${i} <${'x'.repeat(30)}>`);
const expectedPage = () =>
  ROWS.map((r) => `<p>${r.replace('<', '&lt;').replace('>', '&gt;')}</p>`).join('');

const SITE = {
  'pages/big.hbs': '{{#each rows}}<p>{{this}}</p>{{/each}}',
  'pages/small.hbs': '<p>{{len rows}} rows</p>',
  'big.bin': Buffer.alloc(MiB + 1, 7),
};

async function bigSite(t: Parameters<typeof makeTrees>[0]) {
  const trees = makeTrees(t, SITE, { 'rows.json': JSON.stringify(ROWS) });
  const logger = memoryLogger();
  const running = await startServer(t, {
    runtime: 'site',
    serviceDir: () => trees.service,
    dataDir: () => trees.dataCurrent,
    logger,
  });
  return { ...running, logger, trees };
}

describe('site pages larger than the cache limit', () => {
  test('are served whole, every time, with ETag, 304, HEAD and compression', async (t) => {
    const { port } = await bigSite(t);
    const page = expectedPage();
    assert.ok(Buffer.byteLength(page) > MiB, 'the page is above the limit');
    for (let i = 0; i < 2; i++) {
      const answer = await request(port, '/big');
      assert.equal(answer.status, 200, `request ${i + 1}`);
      assert.equal(answer.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(answer.text, page);
      assert.equal(answer.headers['content-length'], String(Buffer.byteLength(page)));
      assert.equal(answer.headers['cache-control'], 'no-cache');
      assert.match(String(answer.headers['content-security-policy']), /default-src 'self'/);
    }
    const first = await request(port, '/big');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/, 'a strong ETag');
    const again = await request(port, '/big', { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);

    const head = await request(port, '/big', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(page)));

    const gz = await request(port, '/big', { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.equal(gunzipSync(gz.body).toString(), page);
    assert.notEqual(gz.headers.etag, etag, 'each encoding has its own ETag');
    const gzAgain = await request(port, '/big', {
      headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': String(gz.headers.etag) },
    });
    assert.equal(gzAgain.status, 304);

    const br = await request(port, '/big', { headers: { 'Accept-Encoding': 'br, gzip' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), page);
  });

  test('a new data version shows at once (nothing of the old page is kept)', async (t) => {
    const { port, server, trees } = await bigSite(t);
    assert.equal((await request(port, '/big')).status, 200);
    trees.publish('v2', { 'rows.json': JSON.stringify(ROWS.map((r) => r.replace('row', 'line'))) });
    server.invalidate();
    const answer = await request(port, '/big');
    assert.equal(answer.status, 200);
    assert.match(answer.text, /^<p>line 0 /);
  });
});

describe('what the fast path gives up on is logged', () => {
  test('pages and files over the limit, missing paths and folders, each with its reason', async (t) => {
    const { port, logger } = await bigSite(t);
    assert.equal((await request(port, '/big')).status, 200);
    assert.equal((await request(port, '/big')).status, 200);
    assert.equal((await request(port, '/big.bin')).status, 200, 'streamed by Express');
    assert.equal((await request(port, '/nothing')).status, 404);
    assert.equal((await request(port, '/small')).status, 200);
    const events = logger.entries.filter((e) => e.event.startsWith('serve.'));
    const about = (path: string) => events.filter((e) => e.path === path);

    assert.deepEqual(
      about('/big').map((e) => [e.level, e.event, e.reason]),
      [['info', 'serve.not_cached', 'rendered page larger than the cache limit']],
      'logged once per data version, not per request',
    );
    assert.ok(Number(about('/big')[0]!.bytes) > MiB);
    assert.equal(about('/big')[0]!.limit, MiB);
    assert.deepEqual(
      about('/big.bin').map((e) => [e.level, e.event, e.reason]),
      [['info', 'serve.not_cached', 'file larger than the cache limit']],
    );
    assert.deepEqual(
      about('/nothing').map((e) => [e.level, e.event, e.reason]),
      [['debug', 'serve.fast_path_pass', 'missing']],
    );
    assert.deepEqual(about('/small'), [], 'a cached page is not worth a line');
  });
});
