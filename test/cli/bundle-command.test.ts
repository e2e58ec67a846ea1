// `bootstrap bundle`, through the built CLI: the agent bundle and its sha256 written for hosting,
// and the agent.source it prints accepted as it is by `bootstrap userdata`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { AGENT_BUNDLE, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';

const VERSION = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;
const NAME = `gitstrap-agent-${VERSION}.cjs`;

test('writes the bundle and its .sha256; the printed agent.source renders user-data as is', async (t) => {
  const dir = tempDir(t);
  const url = `https://downloads.example.com/gitstrap/${NAME}`;
  const r = await runCli(['bundle', '-o', path.join(dir, 'out'), '--url', url]);
  assert.equal(r.code, 0, r.stderr);
  const written = readFileSync(path.join(dir, 'out', NAME));
  assert.deepEqual(written, readFileSync(AGENT_BUNDLE));
  const sha256 = createHash('sha256').update(written).digest('hex');
  assert.equal(
    readFileSync(path.join(dir, 'out', `${NAME}.sha256`), 'utf8'),
    `${sha256}  ${NAME}\n`,
  );
  assert.match(
    r.stderr,
    new RegExp(`^wrote .*${NAME.replace(/\./g, '\\.')} \\(\\d+\\.\\d\\d MB\\)`),
  );

  // The recipe snippet is YAML with exactly the source; the --set line works as printed.
  const snippet = r.stdout.slice(r.stdout.indexOf('agent:'), r.stdout.indexOf('# or'));
  assert.deepEqual(parse(snippet), { agent: { source: { url, sha256 } } });
  const sets =
    /^--set .*$/m
      .exec(r.stdout)?.[0]
      .split(' ')
      .filter((w) => w !== '--set') ?? [];
  assert.equal(sets.length, 2);
  const file = path.join(dir, 'user-data');
  const rendered = await runCli([
    'userdata',
    '--recipe',
    'open-qa',
    ...sets.flatMap((s) => ['--set', s]),
    '-o',
    file,
  ]);
  assert.equal(rendered.code, 0, rendered.stderr);
  const body = readFileSync(file);
  // Over EC2's 16,384 bytes it is gzipped.
  const text = (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString('utf8');
  assert.ok(text.includes(url), 'the URL is in the user-data');
  assert.ok(text.includes(sha256), 'the sha256 is in the user-data');
});

test('without --url it says to fill in the URL; a bad URL or folder is a clear error', async (t) => {
  const dir = tempDir(t);
  const plain = await runCli(['bundle'], { cwd: dir });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stderr, /upload it, then replace the URL below/);
  assert.match(
    plain.stdout,
    new RegExp(`url: https://YOUR-HOST/PATH/${NAME.replace(/\./g, '\\.')}`),
  );
  readFileSync(path.join(dir, NAME));

  const bad = await runCli(['bundle', '--url', 'ftp://host/x.cjs'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    'error: --url ftp://host/x.cjs: expected the http:// or https:// URL the file will have\n' +
      '  hint: e.g. --url https://my-bucket.s3.amazonaws.com/gitstrap/gitstrap-agent-VERSION.cjs\n',
  );

  // A file where the folder should be (root can write anywhere else).
  writeFileSync(path.join(dir, 'taken'), '');
  const denied = await runCli(['bundle', '-o', path.join(dir, 'taken', 'sub')], { cwd: dir });
  assert.equal(denied.code, 1);
  assert.match(
    denied.stderr,
    /^error: cannot write the bundle into .*taken\/sub: ENOTDIR\n {2}hint: choose a folder you can write to with -o DIR\n$/,
  );
});
