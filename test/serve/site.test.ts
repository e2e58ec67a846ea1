// The site runtime through a real agent server: handlebars pages, partials and layout from the
// service checkout, the data version's JSON/YAML as context, caches per commit and per version.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeFiles } from '../helpers/git.js';
import { makeTrees, request, startServer } from './helpers.js';

const SITE = {
  'layout.hbs': '<html><head><title>QA</title></head><body>{{> nav}}{{{body}}}</body></html>',
  'partials/nav.hbs': '<nav>{{meta.title}}</nav>',
  'partials/cards/run.hbs':
    '<li class="{{#if (eq status "pass")}}ok{{else}}bad{{/if}}">{{name}}</li>',
  'pages/index.hbs':
    '<h1>{{results.suite}}</h1><p>{{len runs}} runs, version {{gitstrap.version}}</p><ul>{{#each runs}}{{> cards/run}}{{/each}}</ul>',
  'pages/about.hbs': '<p>about {{gitstrap.path}}</p>',
  'pages/runs/index.hbs': '<p>runs: {{#each runs}}{{@key}} {{/each}}</p>',
  'pages/broken-data.hbs': '<p>{{bad.x}}</p>',
  'style.css': 'h1 { color: red; }',
};

const DATA = {
  'results.json': JSON.stringify({ suite: 'nightly <b>v1</b>' }),
  'meta.yaml': 'title: Open QA\n',
  'runs/r1.json': JSON.stringify({ name: 'unit', status: 'pass' }),
  'runs/r2.json': JSON.stringify({ name: 'e2e', status: 'fail' }),
  'bad.json': '{ not json',
};

describe('site runtime', () => {
  test('renders pages with partials, layout, helpers and the data files as context', async (t) => {
    const trees = makeTrees(t, SITE, DATA);
    const { port } = await startServer(t, {
      runtime: 'site',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
    });
    const home = await request(port, '/');
    assert.equal(home.status, 200);
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(
      home.text,
      '<html><head><title>QA</title></head><body><nav>Open QA</nav>' +
        '<h1>nightly &lt;b&gt;v1&lt;/b&gt;</h1><p>2 runs, version v1</p>' +
        '<ul><li class="ok">unit</li><li class="bad">e2e</li></ul></body></html>',
    );
    assert.match((await request(port, '/about')).text, /<p>about \/about<\/p>/);
    assert.match((await request(port, '/runs/')).text, /runs: r1 r2 /);
    const redirect = await request(port, '/runs');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/runs/');
    assert.equal((await request(port, '/style.css')).text, 'h1 { color: red; }');
    assert.equal((await request(port, '/webcache/meta.yaml')).text, 'title: Open QA\n');
    assert.equal((await request(port, '/nothing')).status, 404);
    // A cached page keeps its ETag and answers 304.
    const etag = String(home.headers.etag);
    assert.equal((await request(port, '/', { headers: { 'If-None-Match': etag } })).status, 304);
    assert.match(String(home.headers['content-security-policy']), /default-src 'self'/);
  });

  test('a broken data file fails only the pages that read it, naming the file', async (t) => {
    const trees = makeTrees(t, SITE, DATA);
    const { port } = await startServer(t, {
      runtime: 'site',
      serviceDir: () => trees.service,
      dataDir: () => trees.dataCurrent,
    });
    const broken = await request(port, '/broken-data');
    assert.equal(broken.status, 500);
    assert.match(broken.text, /data file bad\.json: not valid JSON/);
    assert.equal((await request(port, '/')).status, 200);
  });

  test('a template syntax error answers 500 naming the template', async (t) => {
    const trees = makeTrees(t, { ...SITE, 'pages/oops.hbs': '<p>{{#each runs}}</p>' }, DATA);
    const { port } = await startServer(t, {
      runtime: 'site',
      serviceDir: () => trees.service,
      dataDir: () => trees.dataCurrent,
    });
    const oops = await request(port, '/oops');
    assert.equal(oops.status, 500);
    assert.match(oops.text, /template pages\/oops\.hbs: Parse error on line 1/);
    assert.doesNotMatch(oops.text, /at .*\.js/, 'no stack trace');
  });

  test('pages are cached per data version and templates per service checkout', async (t) => {
    const trees = makeTrees(t, SITE, DATA);
    let serviceDir = trees.service;
    const { port, server } = await startServer(t, {
      runtime: 'site',
      serviceDir: () => serviceDir,
      dataDir: () => trees.dataCurrent,
      cache: { recheckMs: 3_600_000 },
    });
    assert.match((await request(port, '/')).text, /nightly &lt;b&gt;v1/);
    trees.publish('v2', { ...DATA, 'results.json': JSON.stringify({ suite: 'nightly v2' }) });
    assert.match(
      (await request(port, '/')).text,
      /nightly &lt;b&gt;v1/,
      'cached until invalidate()',
    );
    server.invalidate();
    const v2 = (await request(port, '/')).text;
    assert.match(v2, /<h1>nightly v2<\/h1>/);
    assert.match(v2, /version v2/);

    // Editing a compiled template inside the same checkout changes nothing: checkouts never change.
    assert.match((await request(port, '/about')).text, /about \/about/);
    writeFiles(trees.service, { 'pages/about.hbs': '<p>edited</p>' });
    trees.publish('v3', DATA);
    server.invalidate();
    assert.match((await request(port, '/about')).text, /about \/about/);
    // A new service commit is a new checkout folder: its templates are compiled afresh.
    const next = path.join(path.dirname(trees.service), 'beef');
    cpSync(trees.service, next, { recursive: true });
    serviceDir = next;
    server.invalidate();
    assert.match((await request(port, '/about')).text, /<p>edited<\/p>/);
  });
});
