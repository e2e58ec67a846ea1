// The process and node runtimes: a real reverse proxy to a real child HTTP server (and a real
// `php -S` reading the data mount, as Open QA does), and an Express app mounted in the agent.
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import express from 'express';
import { freePort, startProcess, waitForPort } from '../helpers/proc.js';
import { requireTool } from '../helpers/tools.js';
import { makeTrees, rawRequest, request, startServer, startService } from './helpers.js';

describe('process runtime (proxy)', () => {
  test('passes status, headers and streamed bodies; adds X-Forwarded-*; drops hop-by-hop headers', async (t) => {
    const trees = makeTrees(t, { 'index.html': 'service home' }, { 'results.json': '{"v":1}' });
    const service = await startService(t, trees.service);
    const { port } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      proxyPort: () => service.port,
    });
    const answer = await request(port, '/status/201?x=1', { headers: { Host: 'qa.example.test' } });
    assert.equal(answer.status, 201);
    assert.equal(answer.text, 'status 201');
    assert.deepEqual(answer.headers['set-cookie'], ['a=1; HttpOnly', 'b=2']);
    assert.equal(answer.headers['x-service'], 'yes');
    assert.equal(
      answer.headers['content-security-policy'],
      "default-src 'none'",
      'the service CSP wins',
    );
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', 'helmet headers added');

    const echo = await request(port, '/echo?q=a%20b', {
      headers: {
        Host: 'qa.example.test',
        Connection: 'keep-alive, X-Drop',
        'X-Drop': 'secret hop',
        'Proxy-Authorization': 'Basic c2VjcmV0',
        'X-Forwarded-For': '203.0.113.7',
        'X-Keep': 'kept',
      },
    });
    const seen = JSON.parse(echo.text) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/echo?q=a%20b', 'the path and query go through unchanged');
    assert.equal(seen.headers.host, 'qa.example.test');
    assert.equal(seen.headers['x-forwarded-host'], 'qa.example.test');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 127.0.0.1');
    assert.equal(seen.headers['x-keep'], 'kept');
    assert.equal(seen.headers['x-drop'], undefined);
    assert.equal(seen.headers['proxy-authorization'], undefined);

    const streamed = await request(port, '/stream');
    assert.equal(streamed.text, 'chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\ndone\n');
    // The data mount is the agent's, not the service's.
    assert.equal((await request(port, '/webcache/results.json')).text, '{"v":1}');
    assert.ok(!service.proc.output().includes('/webcache/'), 'the service never saw /webcache/');
  });

  test('request bodies stream through within the limit; larger ones get 413 before the service', async (t) => {
    const trees = makeTrees(t, {});
    const service = await startService(t, trees.service);
    const { port } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      proxyPort: service.port,
      maxBody: '100kb',
    });
    const body = Buffer.alloc(90 * 1024, 'a');
    const ok = await request(port, '/echo', { method: 'POST', body });
    assert.equal((JSON.parse(ok.text) as { bodyLength: number }).bodyLength, body.length);
    const big = Buffer.alloc(101 * 1024, 'b');
    const declared = await request(port, '/echo-big', { method: 'POST', body: big });
    assert.equal(declared.status, 413);
    const chunked = await rawRequest(
      port,
      'POST /echo-chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${big.length.toString(16)}\r\n${big.toString()}\r\n0\r\n\r\n`,
    );
    assert.equal(chunked.status, 413);
    assert.ok(
      !service.proc.output().includes('/echo-big'),
      'a declared oversize body never reaches the service',
    );
  });

  test('502 page while the service is down, 504 when it does not answer, back when it returns', async (t) => {
    const trees = makeTrees(t, {});
    let servicePort: number | undefined;
    const { port } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      proxyPort: () => servicePort,
      proxyTimeoutMs: 400,
    });
    const notRunning = await request(port, '/');
    assert.equal(notRunning.status, 502);
    assert.match(notRunning.text, /The service is not answering/);
    assert.equal(notRunning.headers['x-content-type-options'], 'nosniff');
    servicePort = await freePort(); // nothing listens there
    assert.equal((await request(port, '/')).status, 502);
    const service = await startService(t, trees.service);
    servicePort = service.port;
    assert.equal((await request(port, '/echo')).status, 200);
    assert.equal((await request(port, '/slow')).status, 504);
    await service.proc.stop();
    assert.equal((await request(port, '/echo')).status, 502);
  });

  test('a kept-alive connection the service closes as it is reused: a GET is sent again, a POST gets 502', async (t) => {
    const trees = makeTrees(t, {});
    // A service that answers the first request on each connection and closes the connection when
    // a second one arrives on it: the moment a server's keep-alive timeout meets a reuse.
    let connections = 0;
    const service = net.createServer((socket) => {
      connections++;
      let requests = 0;
      let buffer = '';
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('latin1');
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        buffer = '';
        requests++;
        if (requests > 1) socket.destroy();
        else
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => service.close(() => resolve())));
    const servicePort = (service.address() as net.AddressInfo).port;
    const { port } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      proxyPort: () => servicePort,
    });
    assert.equal((await request(port, '/a')).status, 200);
    assert.equal(connections, 1);
    const again = await request(port, '/b');
    assert.equal(again.status, 200, again.text);
    assert.equal(again.text, 'ok');
    assert.equal(connections, 2, 'sent again on a new connection');
    const post = await request(port, '/c', { method: 'POST', body: 'x=1' });
    assert.equal(post.status, 502, 'a request with a body is not sent twice');
    assert.equal(connections, 2);
  });

  test('WebSocket-style upgrades are piped to the service', async (t) => {
    const trees = makeTrees(t, {});
    const service = await startService(t, trees.service);
    const { port } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      proxyPort: service.port,
    });
    const net = await import('node:net');
    const text = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      const timer = setTimeout(
        () => (socket.destroy(), reject(new Error(`no echo: ${got}`))),
        5000,
      );
      socket.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.includes('\r\n\r\n') && !got.includes('echo:')) socket.write('ping');
        if (got.includes('echo:ping')) {
          clearTimeout(timer);
          socket.destroy();
          resolve(got);
        }
      });
      socket.on('error', reject);
      socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    });
    assert.match(text, /^HTTP\/1\.1 101/);
    assert.match(service.proc.output(), /upgrade \/ws/);
  });

  test('a real php -S service reading the data mount, as Open QA does', async (t) => {
    const php = requireTool('php', 'php-cli');
    const trees = makeTrees(
      t,
      {
        'index.php':
          '<?php $r = json_decode(file_get_contents(__DIR__ . "/webcache/results.json"), true); ?>' +
          '<h1>passed: <?= htmlspecialchars($r["passed"]) ?></h1>',
      },
      { 'results.json': '{"passed": 41}' },
    );
    symlinkSync(
      path.relative(trees.service, trees.dataCurrent),
      path.join(trees.service, 'webcache'),
    );
    const phpPort = await freePort();
    // PHP caches symlink resolutions (realpath_cache_ttl, 120 s): without this it keeps reading
    // the data version it first saw through webcache -> data/current after a publish.
    startProcess(t, php, [
      '-d',
      'realpath_cache_size=0',
      '-S',
      `127.0.0.1:${phpPort}`,
      '-t',
      trees.service,
    ]);
    await waitForPort(phpPort);
    const { port, server } = await startServer(t, {
      runtime: 'process',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      proxyPort: phpPort,
    });
    assert.match((await request(port, '/')).text, /<h1>passed: 41<\/h1>/);
    trees.publish('v2', { 'results.json': '{"passed": 42}' });
    server.invalidate();
    assert.match((await request(port, '/')).text, /<h1>passed: 42<\/h1>/);
    assert.equal((await request(port, '/webcache/results.json')).text, '{"passed": 42}');
    assert.equal((await request(port, '/webcache/../index.php')).status, 404);
  });
});

describe('node runtime', () => {
  test('with a start command, the service is proxied like a process', async (t) => {
    const trees = makeTrees(t, {}, { 'results.json': '{"v":1}' });
    const service = await startService(t, trees.service);
    const { port } = await startServer(t, {
      runtime: 'node',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      proxyPort: () => service.port,
    });
    const echo = await request(port, '/echo/x', { method: 'PUT', body: 'abc' });
    assert.deepEqual(
      (({ method, url, bodyLength }) => ({ method, url, bodyLength }))(
        JSON.parse(echo.text) as { method: string; url: string; bodyLength: number },
      ),
      { method: 'PUT', url: '/echo/x', bodyLength: 3 },
    );
    assert.equal((await request(port, '/webcache/results.json')).text, '{"v":1}');
  });

  test('mounts the service Express app; data and agent paths stay the agent’s', async (t) => {
    const trees = makeTrees(t, {}, { 'results.json': '{"v":1}' });
    const service = express.Router();
    service.use(express.json({ limit: '10kb' }));
    service.get('/api/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    service.post('/api/echo', (req, res) => {
      res.json({ got: req.body as unknown });
    });
    const { port } = await startServer(t, {
      runtime: 'node',
      serviceDir: () => trees.service,
      dataMount: 'webcache',
      dataDir: () => trees.dataCurrent,
      app: service,
    });
    const hello = await request(port, '/api/hello');
    assert.equal(hello.text, '{"hello":"world"}');
    assert.equal(hello.headers['x-content-type-options'], 'nosniff');
    const echo = await request(port, '/api/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(echo.text, '{"got":{"a":1}}');
    assert.equal((await request(port, '/webcache/results.json')).text, '{"v":1}');
    assert.equal((await request(port, '/webcache/none.json')).status, 404);
    assert.equal((await request(port, '/_gitstrap/healthz')).status, 200);
    assert.equal((await request(port, '/api/none')).status, 404);
    assert.equal((await request(port, '/api/%2e%2e/.env')).status, 404);
  });
});
