// The agent's runtime tests, run by each form the agent takes on an instance (the CLI from a
// checkout, the bundle, the npm-installed package) on each Node.js it supports: every runtime
// served by the real agent process from real repos behind git daemon.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AGENT_RUNTIME_ENV } from '../../src/lib/agent-runtime-env.js';
import { commitFiles, git } from '../helpers/git.js';
import { requireTool } from '../helpers/tools.js';
import { get, makeRepos, post, startAgent, type StartOptions } from './harness.js';

/** How the agent is run: the Node.js binary and the entry file (the bin, or the bundle). */
export type AgentForm = () => Pick<StartOptions, 'node' | 'entry'>;

/** Registers the runtime tests for one form of the agent (call inside a describe). */
export function runtimeTests(form: AgentForm): void {
  test('static: the checkout, the data version under /<mount>/, healthz and status.json', async (t) => {
    const repos = await makeRepos(
      t,
      { 'index.html': '<h1>static</h1>', 'notes/.gitkeep': '' },
      { 'a.json': '{"v":1}' },
    );
    const agent = await startAgent(
      t,
      repos.dir,
      {
        name: 'static-test',
        service: { repo: repos.serviceUrl, runtime: 'static' },
        data: { repo: repos.dataUrl, mount: 'notes' },
      },
      form(),
    );
    assert.equal((await get(`${agent.url}/`)).body, '<h1>static</h1>');
    assert.equal((await get(`${agent.url}/notes/a.json`)).body, '{"v":1}');
    assert.equal((await get(`${agent.url}/.git/config`)).status, 404);
    const health = await get(`${agent.url}/_gitstrap/healthz`);
    assert.equal(health.status, 200, health.body);
    const status = JSON.parse((await get(`${agent.url}/_gitstrap/status.json`)).body);
    const serviceCommit = git(repos.service, 'rev-parse', 'HEAD');
    assert.equal(status.service.commit, serviceCommit);
    assert.equal(status.data.commit, git(repos.data, 'rev-parse', 'HEAD'));
    assert.equal(readlinkSync(path.join(agent.root, 'service', 'current')), serviceCommit);
    assert.equal(
      readlinkSync(path.join(agent.root, 'service', serviceCommit, 'notes')),
      '../../data/current',
    );
  });

  test('site: templates rendered with the data; a signed webhook publishes a new version at once', async (t) => {
    const repos = await makeRepos(
      t,
      {
        'site/pages/index.hbs': '<h1>{{results.title}}</h1><p id="total">{{results.total}}</p>',
        'site/style.css': 'body{color:#333}',
      },
      { 'results.json': '{"title":"Nightly","total":41}' },
    );
    const secret = path.join(repos.dir, 'webhook-secret');
    writeFileSync(secret, 'hook-secret\n', { mode: 0o600 });
    const agent = await startAgent(
      t,
      repos.dir,
      {
        name: 'site-test',
        service: { repo: repos.serviceUrl, runtime: 'site', root: 'site' },
        data: { repo: repos.dataUrl, mount: 'data', webhook: { secret_file: secret } },
      },
      form(),
    );
    assert.match((await get(`${agent.url}/`)).body, /<h1>Nightly<\/h1><p id="total">41<\/p>/);
    assert.equal((await get(`${agent.url}/style.css`)).body, 'body{color:#333}');

    const next = commitFiles(repos.data, { 'results.json': '{"title":"Nightly","total":42}' });
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const unsigned = await post(`${agent.url}/_gitstrap/hooks/sync`, body);
    assert.equal(unsigned.status, 401);
    const signature = `sha256=${createHmac('sha256', 'hook-secret').update(body).digest('hex')}`;
    const accepted = await post(`${agent.url}/_gitstrap/hooks/sync`, body, {
      'x-hub-signature-256': signature,
      'content-type': 'application/json; charset=utf-8',
    });
    assert.equal(accepted.status, 202);
    await agent.waitForLog('data.published', (l) => l.commit === next);
    assert.match((await get(`${agent.url}/`)).body, /<p id="total">42<\/p>/);
  });

  test('node (module): npm ci, then the exported Express app is mounted in the agent', async (t) => {
    const repos = await makeRepos(
      t,
      {
        'package.json': JSON.stringify({
          name: 'svc',
          version: '1.0.0',
          dependencies: { greet: 'file:vendor/greet' },
        }),
        'package-lock.json': JSON.stringify({
          name: 'svc',
          version: '1.0.0',
          lockfileVersion: 3,
          requires: true,
          packages: {
            '': { name: 'svc', version: '1.0.0', dependencies: { greet: 'file:vendor/greet' } },
            'node_modules/greet': { resolved: 'vendor/greet', link: true },
            'vendor/greet': { version: '1.0.0' },
          },
        }),
        'vendor/greet/package.json': JSON.stringify({
          name: 'greet',
          version: '1.0.0',
          main: 'index.js',
        }),
        'vendor/greet/index.js': "module.exports = (who) => 'hello ' + who;",
        'app.js': [
          "const greet = require('greet');",
          "const fs = require('fs');",
          'module.exports = (req, res, next) => {',
          "  if (req.url === '/hello') return res.end(greet('from the module: ' + fs.readFileSync(__dirname + '/lots/lots.json', 'utf8')));",
          '  next();',
          '};',
        ].join('\n'),
      },
      { 'lots.json': '["lamp"]' },
    );
    const agent = await startAgent(
      t,
      repos.dir,
      {
        name: 'node-module',
        service: { repo: repos.serviceUrl, runtime: 'node', module: 'app.js', root: 'public' },
        data: { repo: repos.dataUrl, mount: 'lots' },
        serve: { health: '/hello' },
      },
      form(),
    );
    assert.equal((await get(`${agent.url}/hello`)).body, 'hello from the module: ["lamp"]');
    assert.ok(agent.logs().some((l) => l.event === 'step.done' && l.step === 'gitstrap-npm'));
  });

  test("node (start): its own server on {port}, proxied; the data at {data}; the agent runs with its unit's heap settings and the service does not inherit them", async (t) => {
    const repos = await makeRepos(
      t,
      {
        'package.json': JSON.stringify({ name: 'svc', version: '1.0.0' }),
        'server.js': [
          "const http = require('http'); const fs = require('fs'); const path = require('path');",
          'const [port, lots] = process.argv.slice(2);',
          'http.createServer((req, res) => {',
          "  res.setHeader('content-type', 'text/plain');",
          "  const inherited = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'].filter((k) => k in process.env);",
          "  res.end(req.url + ' ' + fs.readFileSync(path.join(lots, 'lots.json'), 'utf8') + ' inherited:' + inherited.join(','));",
          "}).listen(Number(port), '127.0.0.1');",
        ].join('\n'),
      },
      { 'lots.json': '["bike"]' },
    );
    const agent = await startAgent(
      t,
      repos.dir,
      {
        name: 'node-start',
        service: {
          repo: repos.serviceUrl,
          runtime: 'node',
          start: ['node', 'server.js', '{port}', '{data}'],
        },
        data: { repo: repos.dataUrl, mount: 'lots' },
      },
      // As the agent unit (src/userdata/agent-unit.ts) starts it: Node must accept the flag on every runtime.
      { ...form(), env: { ...AGENT_RUNTIME_ENV } },
    );
    assert.equal((await get(`${agent.url}/auction?x=1`)).body, '/auction?x=1 ["bike"] inherited:');
    assert.ok(agent.logs().some((l) => l.event === 'step.done' && l.step === 'gitstrap-npm'));
  });

  test('process: php -S serving a page that reads the data mount, as Open QA does', async (t) => {
    requireTool('php', 'php-cli');
    const repos = await makeRepos(
      t,
      {
        'index.php':
          '<?php $r = json_decode(file_get_contents(__DIR__ . "/webcache/results.json"), true); echo "passed: " . $r["passed"];',
        'webcache/.gitkeep': '',
      },
      { 'results.json': '{"passed": 17}' },
    );
    const agent = await startAgent(
      t,
      repos.dir,
      {
        name: 'open-qa-like',
        service: {
          repo: repos.serviceUrl,
          runtime: 'process',
          install: [{ name: 'php', packages: { apt: ['php-cli'], dnf: ['php-cli'] } }],
          start: ['php', '-S', '127.0.0.1:{port}', '-t', '{service}'],
        },
        data: { repo: repos.dataUrl, mount: 'webcache' },
      },
      form(),
    );
    assert.equal((await get(`${agent.url}/`)).body, 'passed: 17');
    assert.equal((await get(`${agent.url}/webcache/results.json`)).body, '{"passed": 17}');
    const status = JSON.parse((await get(`${agent.url}/_gitstrap/status.json`)).body);
    assert.equal(status.service.state, 'running');
  });
}
