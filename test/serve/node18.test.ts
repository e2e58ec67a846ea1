// The server runs where the agent runs: bundled to CommonJS for Node 18 the way scripts/build.mjs
// bundles the agent, started under a real Node 18, serving static files, a site page, the status
// page and a proxied service.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { startProcess, waitFor } from '../helpers/proc.js';
import { projectRoot, requireNode18 } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { makeTrees, request, startService } from './helpers.js';

test('the bundled server runs on Node 18', async (t) => {
  const node18 = requireNode18();
  const dir = tempDir(t);
  const bundle = path.join(dir, 'serve.cjs');
  await build({
    entryPoints: [path.join(projectRoot, 'src/serve/index.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    logLevel: 'error',
    define: { 'import.meta.url': '__url' },
    banner: { js: "const __url = require('node:url').pathToFileURL(__filename).href;" },
    external: ['@aws-sdk/*'],
  });
  const trees = makeTrees(
    t,
    { 'pages/index.hbs': '<h1>{{results.title}}</h1>', 'app.css': 'b{}' },
    { 'results.json': '{"title":"from node 18"}' },
  );
  const service = await startService(t, trees.service);
  const driver = path.join(dir, 'driver.cjs');
  writeFileSync(
    driver,
    `const { createAgentServer } = require(${JSON.stringify(bundle)});
const status = () => ({ recipe: { name: 'n18', runtime: 'site' }, service: { repo: '/r', ref: 'main', commit: 'abc123' }, startedAt: new Date().toISOString() });
const health = () => ({ ok: true, reasons: [] });
const common = { serviceDir: () => ${JSON.stringify(trees.service)}, dataMount: 'webcache', dataDir: () => ${JSON.stringify(trees.dataCurrent)}, status, health };
(async () => {
  const site = await createAgentServer({ ...common, runtime: 'site' }).listen(0, '127.0.0.1');
  const proxy = await createAgentServer({ ...common, runtime: 'process', proxyPort: ${service.port} }).listen(0, '127.0.0.1');
  console.log('ports ' + site.port + ' ' + proxy.port + ' ' + process.version);
})();
`,
  );
  const proc = startProcess(t, node18, [driver]);
  const [sitePort, proxyPort, version] = await waitFor(
    async () => /ports (\d+) (\d+) (v\S+)/.exec(proc.output())?.slice(1),
    `the Node 18 server to start:\n${proc.output()}`,
    20_000,
  );
  assert.match(String(version), /^v18\./);
  const page = await request(Number(sitePort), '/', { headers: { 'Accept-Encoding': 'br' } });
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-encoding'], undefined, 'too small to compress');
  assert.equal(page.text, '<h1>from node 18</h1>');
  assert.equal((await request(Number(sitePort), '/webcache/results.json')).status, 200);
  assert.match((await request(Number(sitePort), '/_gitstrap/')).text, /n18/);
  assert.equal((await request(Number(sitePort), '/.git/config')).status, 404);
  const echo = await request(Number(proxyPort), '/echo', { method: 'POST', body: 'hello' });
  assert.equal((JSON.parse(echo.text) as { bodyLength: number }).bodyLength, 5);
});
