// Publishing under load (issue 4's load test): the real data-sync engine publishes 100 versions
// one after another from a real repo behind `git daemon`, while clients keep requesting a site page
// built from several data files and the data files themselves. Every answer must be 200 and show
// exactly one version; each client must never see a version older than one it saw before.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { createDataSync } from '../../data-sync/src/index.js';
import { silentLogger } from '../../src/lib/log.js';
import { data as dataSchema } from '../../src/recipe/schema.js';
import { commitFiles, git, makeRepo, startGitDaemon } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { makeTrees, startServer } from './helpers.js';

const FILES = ['a', 'b', 'c', 'd', 'e', 'f'];
const PUBLISHES = 100;
const CLIENTS = 6;

function version(n: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of FILES) {
    files[`${f}.json`] = JSON.stringify({ version: n, file: f, padding: 'x'.repeat(200 + n) });
  }
  return files;
}

function getText(
  agent: http.Agent,
  port: number,
  p: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${p}`)));
    req.on('error', reject);
  });
}

test(
  '100 consecutive publishes under load: every answer is 200 and shows one version',
  { timeout: 300_000 },
  async (t) => {
    const base = tempDir(t, 'gitstrap-remote-');
    const work = path.join(base, 'data');
    makeRepo(work, version(0));
    const daemon = await startGitDaemon(t, base);
    const trees = makeTrees(t, {
      'pages/index.hbs': FILES.map((f) => `<i>{{${f}.version}}</i>`).join(''),
    });
    const sync = createDataSync({
      dir: path.join(trees.root, 'data'),
      data: dataSchema.parse({ repo: daemon.url('data'), mount: 'webcache', keep: 2 }),
      logger: silentLogger,
      onPublish: () => server.invalidate(),
    });
    assert.equal((await sync.sync('startup')).outcome, 'published');
    const { port, server } = await startServer(t, {
      runtime: 'site',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });

    let publishing = true;
    const problems: string[] = [];
    const seen = new Set<number>();
    let answers = 0;
    const client = async (id: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      t.after(() => agent.destroy());
      let last = -1;
      for (let i = 0; publishing && i < 1_000_000; i++) {
        const p = i % 2 === 0 ? '/' : `/webcache/${FILES[(i >> 1) % FILES.length]}.json`;
        const { status, text } = await getText(agent, port, p);
        answers++;
        if (status !== 200) {
          problems.push(`client ${id}: ${p} answered ${status}: ${text.slice(0, 200)}`);
          continue;
        }
        const versions =
          p === '/'
            ? [...text.matchAll(/<i>(\d+)<\/i>/g)].map((m) => Number(m[1]))
            : [(JSON.parse(text) as { version: number }).version];
        if (versions.length !== (p === '/' ? FILES.length : 1) || new Set(versions).size !== 1) {
          problems.push(`client ${id}: ${p} mixed versions: ${text.slice(0, 200)}`);
          continue;
        }
        const v = versions[0]!;
        if (v < last) problems.push(`client ${id}: ${p} went back from version ${last} to ${v}`);
        last = Math.max(last, v);
        seen.add(v);
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));

    try {
      for (let n = 1; n <= PUBLISHES; n++) {
        commitFiles(work, version(n), `version ${n}`);
        const result = await sync.sync('manual');
        assert.equal(result.outcome, 'published', `publish ${n}: ${result.error ?? ''}`);
        // Yield so the clients' requests interleave with the publishes.
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      publishing = false;
      await Promise.all(clients);
    }
    assert.deepEqual(problems.slice(0, 20), []);
    assert.equal(git(work, 'rev-parse', 'HEAD'), sync.current()?.commit);
    const final = await getText(new http.Agent(), port, '/');
    assert.equal(final.text, FILES.map(() => `<i>${PUBLISHES}</i>`).join(''));
    assert.ok(seen.size >= 20, `the clients saw many versions while publishing (${seen.size})`);
    assert.ok(answers >= 500, `enough load (${answers} answers)`);
  },
);
