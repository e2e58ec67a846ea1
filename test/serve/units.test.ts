// The pure parts of the serve layer: request-path checks (a golden table), negotiation, ranges,
// the cache's budget, the status view model, names and sizes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CacheEntry } from '../../src/serve/cache-entry.js';
import { buildEntry, pickVariant } from '../../src/serve/cache-entry.js';
import { FileCache } from '../../src/serve/file-cache.js';
import { renderListing } from '../../src/serve/directory-listing.js';
import { contentTypeOf, isCompressible } from '../../src/serve/content-types.js';
import { acceptedEncodings, matchesEtag } from '../../src/serve/negotiate.js';
import { checkRequestPath, isUnder } from '../../src/serve/request-path.js';
import { computeSecurityHeaders } from '../../src/serve/security-headers.js';
import { parseRange } from '../../src/serve/send-file.js';
import { pageFileFor } from '../../src/serve/site.js';
import { parseSize } from '../../src/lib/size.js';
import { describeStatus, redactUrl } from '../../src/serve/status-page.js';

describe('checkRequestPath', () => {
  const cases: Array<[string, string | number]> = [
    ['/', '/'],
    ['/index.html?x=1', '/index.html'],
    ['/webcache/results.json', '/webcache/results.json'],
    ['/a%20b.txt', '/a b.txt'],
    ['/caf%C3%A9.json', '/café.json'],
    ['/100%25.txt', '/100%.txt'],
    ['/a..b/c...json', '/a..b/c...json'],
    ['//double//slash', '//double//slash'],
    ['/.git/config', 404],
    ['/webcache/.git/HEAD', 404],
    ['/.well-known/x', 404],
    ['/a/./b', 404],
    ['/a/../b', 404],
    ['/..', 404],
    ['/%2egit/config', 404],
    ['/%2Egit/config', 404],
    ['/%2e%2e/etc/passwd', 404],
    ['/a%2fb', 400],
    ['/a%2F..%2Fb', 400],
    ['/a%5cb', 400],
    ['/a\\b', 400],
    ['/%252e%252e/x', 400],
    ['/%252fetc', 400],
    ['/%25252egit', 400],
    ['/%c0%ae%c0%ae/x', 400],
    ['/%zz', 400],
    ['/%00', 400],
    ['/a\u0001b', 400],
    ['x/y', 400],
    ['*', 400],
    ['http://host/.git/config', 400],
  ];
  for (const [url, expected] of cases) {
    test(`${JSON.stringify(url)} → ${expected}`, () => {
      const result = checkRequestPath(url);
      if (typeof expected === 'string') assert.deepEqual(result, { ok: true, path: expected });
      else assert.equal(result.ok ? 'ok' : result.status, expected);
    });
  }
  test('isUnder matches whole segments only', () => {
    assert.equal(isUnder('/webcache/x', '/webcache'), true);
    assert.equal(isUnder('/webcache', '/webcache'), true);
    assert.equal(isUnder('/webcachex/y', '/webcache'), false);
  });
});

describe('negotiation', () => {
  test('accepted encodings, best first, honouring q=0 and *', () => {
    assert.deepEqual(acceptedEncodings(undefined), []);
    assert.deepEqual(acceptedEncodings('gzip, deflate, br'), ['br', 'gzip']);
    assert.deepEqual(acceptedEncodings('gzip'), ['gzip']);
    assert.deepEqual(acceptedEncodings('br;q=0, gzip;q=0.5'), ['gzip']);
    assert.deepEqual(acceptedEncodings('*'), ['br', 'gzip']);
    assert.deepEqual(acceptedEncodings('*, gzip;q=0'), ['br']);
    assert.deepEqual(acceptedEncodings('identity'), []);
  });
  test('accepted encodings (negotiator): q-values order them, x-gzip only when named', () => {
    assert.deepEqual(acceptedEncodings('gzip;q=1, br;q=0.5'), ['gzip', 'br']);
    assert.deepEqual(acceptedEncodings('GZIP'), ['gzip']);
    assert.deepEqual(acceptedEncodings('x-gzip'), ['gzip']);
    assert.deepEqual(acceptedEncodings('*;q=0'), []);
    assert.deepEqual(acceptedEncodings('deflate'), []);
  });
  test('If-None-Match: exact, lists, weak and *', () => {
    assert.equal(matchesEtag('"a"', '"a"'), true);
    assert.equal(matchesEtag('"b", "a"', '"a"'), true);
    assert.equal(matchesEtag('W/"a"', '"a"'), true);
    assert.equal(matchesEtag('*', '"a"'), true);
    assert.equal(matchesEtag('"b"', '"a"'), false);
    assert.equal(matchesEtag('"a-gz"', '"a"'), false);
  });
  test('If-None-Match (fresh): spacing in lists, weak on either side, Cache-Control: no-cache', () => {
    assert.equal(matchesEtag('"b" ,  W/"a"', '"a"'), true);
    assert.equal(matchesEtag('"a"', 'W/"a"'), true);
    assert.equal(matchesEtag('"b","c"', '"a"'), false);
    assert.equal(matchesEtag('"a"', '"a"', 'no-cache'), false, 'a forced reload is never a 304');
    assert.equal(matchesEtag('"a"', '"a"', 'max-age=0'), true, 'a plain reload revalidates');
    assert.equal(matchesEtag('*', '"a"', 'no-cache'), false);
  });
  test('byte ranges', () => {
    assert.deepEqual(parseRange('bytes=0-4', 10), [0, 4]);
    assert.deepEqual(parseRange('bytes=5-', 10), [5, 9]);
    assert.deepEqual(parseRange('bytes=-3', 10), [7, 9]);
    assert.deepEqual(parseRange('bytes=0-100', 10), [0, 9]);
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
    assert.equal(parseRange('items=0-1', 10), undefined);
  });
  test('byte ranges (range-parser): edge cases', () => {
    assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
    assert.deepEqual(parseRange('bytes=-30', 10), [0, 9], 'a suffix longer than the file');
    assert.equal(parseRange('bytes=5-2', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable', 'an empty file has no bytes');
    assert.deepEqual(parseRange('bytes= 2 - 4 ', 10), [2, 4], 'spaces around the numbers');
    assert.deepEqual(parseRange('bytes=0-1,2-4', 10), [0, 4], 'adjacent ranges combine');
    assert.deepEqual(parseRange('bytes=0-4,2-6', 10), [0, 6], 'overlapping ranges combine');
    assert.deepEqual(parseRange('bytes=0-1,20-30', 10), [0, 1], 'ranges past the end are dropped');
    assert.equal(parseRange('bytes=abc', 10), undefined);
    assert.equal(parseRange('bytes=1-x', 10), undefined);
    assert.equal(parseRange('bytes=-1-2', 10), undefined);
  });
});

describe('cache', () => {
  const entry = (bytes: number): CacheEntry => {
    const variant = { body: Buffer.alloc(bytes), etag: '"x"', ok: [], notModified: [] };
    return { identity: variant, bytes, hot: false };
  };
  test('stays within its byte budget; recently hit entries get a second chance', () => {
    const cache = new FileCache(10_000);
    for (let i = 0; i < 5; i++) cache.set(`/f${i}`, entry(1000));
    assert.equal(cache.size, 5);
    cache.get('/f0');
    for (let i = 5; i < 11; i++) cache.set(`/f${i}`, entry(1000));
    assert.ok(cache.bytes <= 10_000, `${cache.bytes}`);
    assert.ok(cache.get('/f0'), 'the hit entry survived');
    assert.equal(cache.get('/f1'), undefined, 'a cold old entry was evicted');
    cache.set('/huge', entry(20_000));
    assert.equal(cache.get('/huge'), undefined, 'larger than the whole budget: not cached');
  });
  test('entries: strong hashed ETags, variants only when they help', async () => {
    const json = Buffer.from(JSON.stringify({ runs: Array(100).fill({ ok: true }) }));
    const e = await buildEntry(json, contentTypeOf('x.json'), ['X-Test', '1']);
    assert.match(e.identity.etag, /^"[\w-]{27}"$/);
    assert.equal(e.gzip?.etag, e.identity.etag.replace(/"$/, '-gz"'));
    assert.ok(e.br && e.br.body.length < json.length);
    assert.deepEqual(e.identity.ok.slice(0, 4), [
      'Content-Type',
      'application/json; charset=utf-8',
      'Content-Length',
      String(json.length),
    ]);
    assert.ok(e.identity.ok.includes('X-Test'));
    assert.equal(pickVariant(e, ['gzip']), e.gzip);
    assert.equal(pickVariant(e, []), e.identity);
    const png = await buildEntry(Buffer.alloc(5000, 1), contentTypeOf('x.png'), []);
    assert.equal(png.gzip, undefined, 'images are not compressed');
    assert.ok(!png.identity.ok.includes('Vary'));
    const same = await buildEntry(Buffer.from(json), contentTypeOf('x.json'), []);
    assert.equal(
      same.identity.etag,
      e.identity.etag,
      'same bytes, same ETag (across restarts too)',
    );
  });
});

describe('status view', () => {
  test('describeStatus formats commits, syncs, next sync and time left', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const view = describeStatus(
      {
        recipe: { name: 'qa', runtime: 'site' },
        service: { repo: 'https://user:pw@example.test/s.git', ref: 'main', commit: 'abc' },
        data: {
          repo: 'git@example.test:d.git',
          ref: 'main',
          mount: 'webcache',
          history: [
            {
              outcome: 'failed',
              phase: 'fetch',
              error: 'unreachable',
              trigger: 'schedule',
              startedAt: '2026-01-01T11:49:59Z',
              finishedAt: '2026-01-01T11:50:00Z',
              durationMs: 800,
            },
          ],
          nextSync: '2026-01-01T12:30:00Z',
        },
        startedAt: '2026-01-01T09:00:00Z',
        expiresAt: '2026-01-01T13:15:00Z',
      },
      { ok: false, reasons: ['data sync failing'] },
      now,
    );
    assert.deepEqual(view, {
      name: 'qa',
      runtime: 'site',
      healthy: false,
      reasons: ['data sync failing'],
      service: { repo: 'https://***@example.test/s.git', ref: 'main', commit: 'abc' },
      startedAt: '2026-01-01T09:00:00Z',
      uptime: '3h',
      generatedAt: '2026-01-01T12:00:00.000Z',
      data: {
        repo: 'git@example.test:d.git',
        ref: 'main',
        mount: 'webcache',
        commit: 'no version yet',
        history: [
          {
            outcome: 'failed',
            good: false,
            commit: '-',
            trigger: 'schedule',
            finishedAt: '2026-01-01T11:50:00Z',
            ago: '10m ago',
            duration: '800ms',
            error: 'fetch: unreachable',
          },
        ],
        lastSync: {
          outcome: 'failed',
          good: false,
          commit: '-',
          trigger: 'schedule',
          finishedAt: '2026-01-01T11:50:00Z',
          ago: '10m ago',
          duration: '800ms',
          error: 'fetch: unreachable',
        },
        nextSync: { at: '2026-01-01T12:30:00Z', in: '30m' },
      },
      ttl: { endsAt: '2026-01-01T13:15:00Z', left: '1h 15m', expired: false },
    });
  });
  test('redactUrl removes credentials, keeps ssh users', () => {
    assert.equal(redactUrl('https://tok@h/x'), 'https://***@h/x');
    assert.equal(redactUrl('ssh://git:pw@h/x'), 'ssh://***@h/x');
    assert.equal(redactUrl('ssh://git@h/x'), 'ssh://git@h/x');
    assert.equal(redactUrl('git@h:x.git'), 'git@h:x.git');
    assert.equal(redactUrl('/srv/repo'), '/srv/repo');
  });
});

describe('small parts', () => {
  test('page files for URL paths', () => {
    assert.deepEqual(pageFileFor('/'), ['index.hbs']);
    assert.deepEqual(pageFileFor('/about'), ['about.hbs']);
    assert.deepEqual(pageFileFor('/runs/'), ['runs', 'index.hbs']);
    assert.deepEqual(pageFileFor('/runs/latest'), ['runs', 'latest.hbs']);
  });
  test('content types and compressibility', () => {
    assert.equal(contentTypeOf('a/b.JSON'), 'application/json; charset=utf-8');
    assert.equal(contentTypeOf('a.b/noext'), 'application/octet-stream');
    assert.equal(isCompressible(contentTypeOf('x.svg')), true);
    assert.equal(isCompressible(contentTypeOf('x.woff2')), false);
  });
  test('content types come from mime-types', () => {
    assert.equal(contentTypeOf('app.js'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('notes.md'), 'text/markdown; charset=utf-8');
    assert.equal(contentTypeOf('conf.yaml'), 'text/yaml; charset=utf-8');
    assert.equal(contentTypeOf('run.log'), 'text/plain; charset=utf-8');
    assert.equal(contentTypeOf('feed.xml'), 'application/xml');
    assert.equal(contentTypeOf('pic.webp'), 'image/webp');
    assert.equal(contentTypeOf('x.unknown-extension'), 'application/octet-stream');
    assert.equal(contentTypeOf('/dir.d/file'), 'application/octet-stream');
    assert.equal(isCompressible(contentTypeOf('conf.yaml')), true);
    assert.equal(isCompressible(contentTypeOf('feed.xml')), true);
  });
  test('sizes', () => {
    assert.equal(parseSize('1mb'), 1048576);
    assert.equal(parseSize('100kb'), 102400);
    assert.equal(parseSize('512'), 512);
    assert.throws(() => parseSize('lots'), /expected a size such as 100kb/);
    assert.equal(parseSize('2gb'), 2 * 1024 ** 3);
    assert.equal(parseSize(' 1 MB '), 1048576);
    assert.equal(parseSize('512b'), 512);
    for (const bad of ['12abc', '-5', '1.5mb', '1tb', ''])
      assert.throws(() => parseSize(bad), /expected a size/, bad);
  });
  test('security headers: helmet defaults minus HSTS and upgrade-insecure-requests', () => {
    const headers = new Map(computeSecurityHeaders());
    assert.match(headers.get('Content-Security-Policy') ?? '', /^default-src 'self';/);
    assert.doesNotMatch(headers.get('Content-Security-Policy') ?? '', /upgrade-insecure-requests/);
    assert.equal(headers.get('Strict-Transport-Security'), undefined);
    assert.equal(headers.get('X-Content-Type-Options'), 'nosniff');
    assert.equal(headers.get('X-Frame-Options'), 'SAMEORIGIN');
  });
  test('listings escape names', () => {
    const html = renderListing('/d/', [{ name: '<script>"x".json', dir: false }]);
    assert.ok(!html.includes('<script>"x"'));
    assert.match(html, /href="%3Cscript%3E%22x%22\.json"/);
  });
});
