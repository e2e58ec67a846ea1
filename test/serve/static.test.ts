// The static runtime through a real agent server: files of the checkout, the data version under
// /<mount>/, ETag/304, gzip and brotli variants, invalidate-on-publish, folders, large files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { makeTrees, request, startServer } from './helpers.js';

const RESULTS = JSON.stringify({
  version: 'v1',
  runs: Array.from({ length: 40 }, (_, i) => ({ id: i, passed: true })),
});

function staticSite(t: Parameters<typeof makeTrees>[0]) {
  return makeTrees(
    t,
    {
      'index.html': '<h1>home</h1>',
      'css/site.css': 'body { color: #222; }\n'.repeat(40),
      'docs/index.html': '<h1>docs</h1>',
      'empty/readme.txt': 'no index here',
      'tiny.txt': 'hi',
    },
    { 'results.json': RESULTS, 'nested/run-1.json': '{"id":1}' },
  );
}

describe('static runtime', () => {
  test('serves checkout files and the data version under the mount, with helmet headers', async (t) => {
    const trees = staticSite(t);
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });
    const home = await request(port, '/');
    assert.equal(home.status, 200);
    assert.equal(home.text, '<h1>home</h1>');
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    const css = await request(port, '/css/site.css');
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const data = await request(port, '/webcache/results.json');
    assert.equal(data.status, 200);
    assert.equal(data.text, RESULTS);
    assert.equal(data.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal((await request(port, '/webcache/nested/run-1.json')).text, '{"id":1}');
    // Served twice: the second answer comes from the cache, with the same headers.
    for (const answer of [data, await request(port, '/webcache/results.json')]) {
      assert.match(String(answer.headers['content-security-policy']), /default-src 'self'/);
      assert.doesNotMatch(String(answer.headers['content-security-policy']), /upgrade-insecure/);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(answer.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(answer.headers['x-powered-by'], undefined);
      assert.equal(answer.headers['cache-control'], 'no-cache');
    }
    assert.equal((await request(port, '/missing.html')).status, 404);
    assert.equal((await request(port, '/webcache/missing.json')).status, 404);
  });

  test('ETag and 304 on If-None-Match; HEAD sends the headers without the body', async (t) => {
    const trees = staticSite(t);
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });
    const first = await request(port, '/webcache/results.json');
    const etag = first.headers.etag;
    assert.match(String(etag), /^"[A-Za-z0-9_-]{27}"$/);
    const again = await request(port, '/webcache/results.json', {
      headers: { 'If-None-Match': String(etag) },
    });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal(again.headers['x-content-type-options'], 'nosniff', 'a 304 has helmet headers');
    assert.match(String(again.headers['content-security-policy']), /default-src 'self'/);
    const reload = await request(port, '/webcache/results.json', {
      headers: { 'If-None-Match': String(etag), 'Cache-Control': 'no-cache' },
    });
    assert.equal(reload.status, 200, 'Cache-Control: no-cache is a forced reload');
    const revalidate = await request(port, '/webcache/results.json', {
      headers: { 'If-None-Match': String(etag), 'Cache-Control': 'max-age=0' },
    });
    assert.equal(revalidate.status, 304, 'a plain reload revalidates');
    const listed = await request(port, '/webcache/results.json', {
      headers: { 'If-None-Match': `"nope", W/${String(etag)}` },
    });
    assert.equal(listed.status, 304);
    const other = await request(port, '/webcache/results.json', {
      headers: { 'If-None-Match': '"other"' },
    });
    assert.equal(other.status, 200);
    const head = await request(port, '/webcache/results.json', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(Buffer.byteLength(RESULTS)));
    assert.equal(head.headers.etag, etag);
  });

  test('gzip and brotli variants with Vary: Accept-Encoding; tiny files stay plain', async (t) => {
    const trees = staticSite(t);
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });
    const gz = await request(port, '/webcache/results.json', {
      headers: { 'Accept-Encoding': 'gzip' },
    });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.ok(gz.body.length < Buffer.byteLength(RESULTS));
    assert.equal(zlib.gunzipSync(gz.body).toString(), RESULTS);
    const br = await request(port, '/webcache/results.json', {
      headers: { 'Accept-Encoding': 'gzip, deflate, br' },
    });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(br.body).toString(), RESULTS);
    assert.notEqual(br.headers.etag, gz.headers.etag);
    const refusedBr = await request(port, '/webcache/results.json', {
      headers: { 'Accept-Encoding': 'br;q=0, gzip' },
    });
    assert.equal(refusedBr.headers['content-encoding'], 'gzip');
    const plain = await request(port, '/webcache/results.json');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    const gz304 = await request(port, '/webcache/results.json', {
      headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': String(gz.headers.etag) },
    });
    assert.equal(gz304.status, 304);
    const tiny = await request(port, '/tiny.txt', { headers: { 'Accept-Encoding': 'gzip, br' } });
    assert.equal(tiny.text, 'hi');
    assert.equal(tiny.headers['content-encoding'], undefined);
    assert.equal(tiny.headers.vary, undefined);
  });

  test('after a publish, invalidate() makes the next response show the new version', async (t) => {
    const trees = staticSite(t);
    const { port, server } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      cache: { recheckMs: 3_600_000 }, // only invalidate() may notice the publish
    });
    assert.equal((await request(port, '/webcache/results.json')).text, RESULTS);
    trees.publish('v2', { 'results.json': '{"version":"v2"}' });
    assert.equal((await request(port, '/webcache/results.json')).text, RESULTS, 'still cached');
    server.invalidate();
    assert.equal((await request(port, '/webcache/results.json')).text, '{"version":"v2"}');
    assert.equal(
      (await request(port, '/webcache/nested/run-1.json')).status,
      404,
      'v2 has no nested/',
    );
  });

  test('a publish nobody announced is noticed on the next recheck', async (t) => {
    const trees = staticSite(t);
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      cache: { recheckMs: 0 },
    });
    assert.equal((await request(port, '/webcache/results.json')).text, RESULTS);
    trees.publish('v2', { 'results.json': '{"version":"v2"}' });
    assert.equal((await request(port, '/webcache/results.json')).text, '{"version":"v2"}');
  });

  test('folders: index.html, redirect to the slash form, 404 without listing, listing on request', async (t) => {
    const trees = staticSite(t);
    trees.publish('v1', { '.hidden.json': 'secret', 'a.json': '{}' });
    const base = {
      runtime: 'static' as const,
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    };
    const { port } = await startServer(t, base);
    assert.equal((await request(port, '/docs/')).text, '<h1>docs</h1>');
    const redirect = await request(port, '/docs?x=1');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/docs/');
    assert.equal((await request(port, '/empty/')).status, 404);
    assert.equal((await request(port, '/webcache/')).status, 404);

    const listed = await startServer(t, { ...base, listing: true });
    const page = await request(listed.port, '/webcache/');
    assert.equal(page.status, 200);
    assert.match(page.text, /href="a\.json"/);
    assert.match(page.text, /href="nested\/"/);
    assert.doesNotMatch(page.text, /hidden/);
    assert.match(String(page.headers['content-security-policy']), /default-src/);
    assert.match((await request(listed.port, '/empty/')).text, /readme\.txt/);
  });

  test('files over the cache limit are streamed, with ETag, 304 and byte ranges', async (t) => {
    const big = Buffer.alloc(300_000, 'x');
    big.write('START', 0);
    const trees = makeTrees(t, { 'big.bin': big });
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      cache: { maxFileBytes: 100_000 },
    });
    const full = await request(port, '/big.bin');
    assert.equal(full.status, 200);
    assert.equal(full.body.length, big.length);
    assert.ok(full.body.equals(big));
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.equal(full.headers['x-content-type-options'], 'nosniff');
    const etag = String(full.headers.etag);
    assert.equal(
      (await request(port, '/big.bin', { headers: { 'If-None-Match': etag } })).status,
      304,
    );
    const part = await request(port, '/big.bin', { headers: { Range: 'bytes=0-4' } });
    assert.equal(part.status, 206);
    assert.equal(part.text, 'START');
    assert.equal(part.headers['content-range'], `bytes 0-4/${big.length}`);
    assert.equal(
      (await request(port, '/big.bin', { headers: { Range: 'bytes=999999-' } })).status,
      416,
    );
    const modified = String(full.headers['last-modified']);
    const since = await request(port, '/big.bin', { headers: { 'If-Modified-Since': modified } });
    assert.equal(since.status, 304);
    const listed = await request(port, '/big.bin', {
      headers: { 'If-None-Match': `"other", ${etag}` },
    });
    assert.equal(listed.status, 304, 'an If-None-Match list');
    const reload = await request(port, '/big.bin', {
      headers: { 'If-None-Match': etag, 'Cache-Control': 'no-cache' },
    });
    assert.equal(reload.status, 200, 'Cache-Control: no-cache is a forced reload');
    const combined = await request(port, '/big.bin', { headers: { Range: 'bytes=0-1,2-4' } });
    assert.equal(combined.status, 206, 'adjacent ranges are one range');
    assert.equal(combined.text, 'START');
    const several = await request(port, '/big.bin', { headers: { Range: 'bytes=0-1,10-11' } });
    assert.equal(several.status, 200, 'several ranges: the whole file');
    assert.equal(several.body.length, big.length);
    const stale = await request(port, '/big.bin', {
      headers: { Range: 'bytes=0-4', 'If-Range': '"not-this"' },
    });
    assert.equal(stale.status, 200, 'If-Range naming another version: the whole file');
    const current = await request(port, '/big.bin', {
      headers: { Range: 'bytes=0-4', 'If-Range': etag },
    });
    assert.equal(current.status, 206);
  });

  test('only GET and HEAD; the data mount is 503 until a version is published', async (t) => {
    const trees = makeTrees(t, { 'index.html': 'home' });
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });
    const post = await request(port, '/index.html', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await request(port, '/index.html', { method: 'DELETE' })).status, 405);
    const early = await request(port, '/webcache/results.json');
    assert.equal(early.status, 503);
    assert.match(early.text, /No data version/);
    trees.publish('v1', { 'results.json': '{}' });
    assert.equal((await request(port, '/webcache/results.json')).status, 200);
  });
});
