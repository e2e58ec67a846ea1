// Security probes against a real agent server in every runtime: .git and dotfiles, percent-encoded,
// double-encoded, backslash and ".." spellings, written on raw sockets so no client normalises
// them; symlinks out of the served trees; the proxy refusing before the service sees anything.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { makeTrees, rawGet, rawRequest, request, startServer, startService } from './helpers.js';

const SECRETS = [
  'SECRET-GIT-CONFIG',
  'SECRET-ENV',
  'SECRET-DATA-HEAD',
  'SECRET-DOT-DATA',
  'SECRET-OUTSIDE',
  'root:x:0:0',
];

/** Request targets that must never reach a secret. Each is written verbatim in the request line. */
const PROBES = [
  '/.git/config',
  '/.git/HEAD',
  '/.git',
  '/.git/',
  '/.env',
  '/webcache/.git/HEAD',
  '/webcache/.secret.json',
  '/%2egit/config',
  '/%2Egit/config',
  '/%2e%67it/config',
  '/.%67it/config',
  '/webcache/%2egit/HEAD',
  '/webcache/%2Egit/HEAD',
  '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/webcache/%2e%2e/%2e%2e/%2e%2e/outside-secret.txt',
  '/webcache/..%2f..%2f..%2foutside-secret.txt',
  '/..%2f..%2f..%2f..%2fetc/passwd',
  '/..%2F.git/config',
  '/.git%2fconfig',
  '/%252e%252e/%252e%252e/%252e%252e/etc/passwd',
  '/%252egit/config',
  '/webcache/%252e%252e/%252e%252e/%252e%252e/outside-secret.txt',
  '/%25252egit/config',
  '/..\\..\\..\\etc\\passwd',
  '/\\.git\\config',
  '/%5c.git%5cconfig',
  '/%5C..%5C..%5Cetc/passwd',
  '/a/../.git/config',
  '/webcache/../.git/config',
  '/webcache/../../../outside-secret.txt',
  '/./.git/config',
  '/%2e/.git/config',
  '/..',
  '/../../../../etc/passwd',
  '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
  '/%00/.git/config',
  '/.git%00/config',
  '/..;/.git/config',
  '/link-git',
  '/link-out',
  '/link-dir/passwd',
  '/webcache/escape.json',
  '/webcache/link-dir/passwd',
  '.git/config',
  'http://127.0.0.1/.git/config',
  '*',
];

/** A service checkout and data version with secrets and hostile symlinks in them. */
function hostileTrees(t: TestContext, serviceFiles: Record<string, string> = {}) {
  const trees = makeTrees(
    t,
    {
      'index.html': 'home',
      'plain.txt': 'plain',
      '.git/config': '[core] SECRET-GIT-CONFIG',
      '.git/HEAD': 'ref: refs/heads/main SECRET-GIT-CONFIG',
      '.env': 'TOKEN=SECRET-ENV',
      ...serviceFiles,
    },
    {
      'results.json': '{"ok":true}',
      '.git/HEAD': 'SECRET-DATA-HEAD',
      '.secret.json': 'SECRET-DOT-DATA',
    },
  );
  writeFileSync(path.join(trees.root, 'outside-secret.txt'), 'SECRET-OUTSIDE');
  symlinkSync(path.join(trees.root, 'outside-secret.txt'), path.join(trees.service, 'link-out'));
  symlinkSync('.git/config', path.join(trees.service, 'link-git'));
  symlinkSync('/etc', path.join(trees.service, 'link-dir'));
  symlinkSync('index.html', path.join(trees.service, 'ok-link.html'));
  const v1 = path.join(trees.root, 'data/versions/v1');
  symlinkSync('../../../outside-secret.txt', path.join(v1, 'escape.json'));
  symlinkSync('/etc', path.join(v1, 'link-dir'));
  mkdirSync(path.join(trees.service, 'a'));
  return trees;
}

/** Symlinks in the service checkout: only the trees the agent serves itself are its business. */
const SERVICE_SYMLINK_PROBES = new Set(['/link-git', '/link-out', '/link-dir/passwd']);

async function assertProbesRefused(port: number, probes = PROBES): Promise<void> {
  for (const target of probes) {
    const { status, answer } = await rawGet(port, target);
    assert.ok(
      status === 400 || status === 404,
      `${target}: expected 400 or 404, got ${status}\n${answer}`,
    );
    for (const secret of SECRETS) assert.ok(!answer.includes(secret), `${target} leaked ${secret}`);
  }
  // Also with node:http (which sends the path as given) and with other methods.
  for (const target of ['/.git/config', '/%2egit/config', '/webcache/.git/HEAD']) {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const answer = await request(port, target, {
        method,
        body: method === 'POST' ? 'x' : undefined,
      });
      assert.ok(
        answer.status === 400 || answer.status === 404,
        `${method} ${target}: ${answer.status}`,
      );
      for (const secret of SECRETS)
        assert.ok(!answer.text.includes(secret), `${method} ${target} leaked`);
    }
  }
}

describe('security', () => {
  test('static: every probe is refused, symlinks out of the trees are not followed', async (t) => {
    const trees = hostileTrees(t);
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      listing: true,
    });
    // The fast path has the files cached before the probes: refusals must not depend on misses.
    assert.equal((await request(port, '/plain.txt')).text, 'plain');
    assert.equal((await request(port, '/webcache/results.json')).status, 200);
    assert.equal(
      (await request(port, '/ok-link.html')).text,
      'home',
      'a symlink inside the tree is fine',
    );
    await assertProbesRefused(port);
    await assertProbesRefused(port); // again, now that refusals may be remembered
    const listing = await request(port, '/');
    assert.doesNotMatch(listing.text, /\.git|\.env/);
    const refused = await request(port, '/.git/config');
    assert.match(String(refused.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(refused.headers['x-content-type-options'], 'nosniff');
  });

  test('site: every probe is refused and templates are not served raw', async (t) => {
    const trees = hostileTrees(t, {
      'pages/index.hbs': '<p>{{results.ok}}</p>',
      'layout.hbs': '{{{body}}}',
    });
    const { port } = await startServer(t, {
      runtime: 'site',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });
    assert.equal((await request(port, '/')).text, '<p>true</p>');
    await assertProbesRefused(port);
    assert.equal((await request(port, '/pages/index.hbs')).status, 404);
    assert.equal((await request(port, '/layout.hbs')).status, 404);
    assert.equal((await request(port, '/%70ages/index.hbs')).status, 404);
  });

  test('process: the agent refuses probes before proxying; the naive service would have leaked', async (t) => {
    const trees = hostileTrees(t);
    const service = await startService(t, trees.service);
    // The fixture service leaks when asked directly: the refusals below are the agent's.
    assert.match((await rawGet(service.port, '/.git/config')).answer, /SECRET-GIT-CONFIG/);
    const { port } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      proxyPort: service.port,
    });
    assert.equal((await request(port, '/plain.txt')).text, 'plain');
    const seenBefore = service.proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('request')).length;
    // Symlinks inside the service's own checkout are the service's to follow or not (it serves them).
    await assertProbesRefused(
      port,
      PROBES.filter((p) => !SERVICE_SYMLINK_PROBES.has(p)),
    );
    const seen = service.proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('request'));
    assert.equal(
      seen.length,
      seenBefore,
      `the service saw probes:\n${seen.slice(seenBefore).join('\n')}`,
    );
    // Upgrade requests too.
    const upgrade = await rawRequest(
      port,
      'GET /.git/config HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    assert.equal(upgrade.status, 404);
    assert.ok(!upgrade.answer.includes('SECRET'));
  });
});
