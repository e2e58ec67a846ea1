// Private repos through the real agent: a token over HTTPS-style smart HTTP (git http-backend), an
// SSH deploy key (a stand-in ssh that records its arguments and runs git-upload-pack locally), and
// a token read from SSM with the instance role (local IMDS + SSM stand-in).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { authorizationHeader } from '../../src/agent/auth/token.js';

/** The header value git sends for a token (what the server checks). */
const basic = (token: string) => authorizationHeader(token).replace(/^Authorization: /, '');
import { runCli } from '../helpers/cli.js';
import { makeRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { startAwsStandIn } from './aws-standin.js';
import { startGitHttp } from './git-http.js';
import { get, startAgent, writeRecipe } from './harness.js';

const HOST_KEY =
  'repo.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedHostKeyOfTheRepoServer0000000';

function privateRepos(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t, 'gitstrap-private-');
  makeRepo(path.join(dir, 'repos', 'service'), {
    'index.html': '<p>private service</p>',
    'data/.gitkeep': '',
  });
  makeRepo(path.join(dir, 'repos', 'data'), { 'secret.json': '{"private":true}' });
  return dir;
}

describe('private repos', () => {
  test('token_file: sent as an Authorization header; never on argv or in the log', async (t) => {
    const dir = privateRepos(t);
    const token = 'tok-1234567890-abcdef';
    const server = await startGitHttp(t, path.join(dir, 'repos'), basic(token));
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const recipe = {
      name: 'private-token',
      service: { repo: server.url('service'), runtime: 'static', auth: { token_file: tokenFile } },
      data: { repo: server.url('data'), mount: 'data', auth: { token_file: tokenFile } },
    };
    const agent = await startAgent(t, dir, recipe);
    assert.equal((await get(`${agent.url}/`)).body, '<p>private service</p>');
    assert.equal((await get(`${agent.url}/data/secret.json`)).body, '{"private":true}');
    assert.ok(server.seen.filter((h) => h === basic(token)).length >= 2);
    assert.doesNotMatch(agent.proc.output(), new RegExp(token));
    await agent.proc.stop();

    chmodSync(tokenFile, 0o644);
    const { file } = await writeRecipe(dir, recipe);
    const refused = await runCli(['--recipe', file, '--root', path.join(dir, 'state2')]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^error: service\.auth\.token_file: .*token is readable by others \(mode 0644\); refusing to use it/,
    );
  });

  test('ssh_key_file: git runs ssh with that key only and the pinned host keys only', async (t) => {
    const dir = privateRepos(t);
    // A stand-in ssh: records its arguments, then serves the request with the local git-upload-pack.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const argvLog = path.join(dir, 'ssh-argv');
    writeFileSync(
      path.join(bin, 'ssh'),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done >> ${argvLog}\necho --- >> ${argvLog}\nfor last; do :; done\nexec sh -c "$last"\n`,
    );
    chmodSync(path.join(bin, 'ssh'), 0o755);
    const key = path.join(dir, 'deploy_key');
    writeFileSync(
      key,
      '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n',
      { mode: 0o600 },
    );
    const repo = `ssh://git@repo.example${path.join(dir, 'repos', 'service')}`;
    const agent = await startAgent(
      t,
      dir,
      {
        name: 'private-ssh',
        service: { repo, runtime: 'static', auth: { ssh_key_file: key, known_hosts: [HOST_KEY] } },
      },
      { env: { PATH: `${bin}:${process.env.PATH}` } },
    );
    assert.equal((await get(`${agent.url}/`)).body, '<p>private service</p>');
    const calls = readFileSync(argvLog, 'utf8').split('---\n').filter(Boolean);
    assert.ok(calls.length >= 1, 'the clone went through ssh');
    const knownHosts = path.join(agent.root, 'auth', 'service.known_hosts');
    for (const call of calls) {
      const args = call.trim().split('\n');
      assert.deepEqual(args.slice(0, 10), [
        '-i',
        key,
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'BatchMode=yes',
      ]);
      assert.ok(args.includes('git@repo.example'));
    }
    assert.equal(readFileSync(knownHosts, 'utf8'), `${HOST_KEY}\n`);
  });

  test('ssm_parameter: the token comes from SSM via the instance role', async (t) => {
    const dir = privateRepos(t);
    const token = 'token-kept-in-ssm';
    const server = await startGitHttp(t, path.join(dir, 'repos'), basic(token));
    const aws = await startAwsStandIn(t, { '/gitstrap/data-token': token });
    const agent = await startAgent(
      t,
      dir,
      {
        name: 'private-ssm',
        service: { repo: path.join(dir, 'repos', 'service'), runtime: 'static' },
        data: {
          repo: server.url('data'),
          mount: 'data',
          auth: { ssm_parameter: '/gitstrap/data-token' },
        },
      },
      { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: aws.url, AWS_ENDPOINT_URL_SSM: aws.url } },
    );
    assert.equal((await get(`${agent.url}/data/secret.json`)).body, '{"private":true}');
    assert.ok(aws.requests.includes('POST /'));
    assert.doesNotMatch(agent.proc.output(), new RegExp(token));
  });
});
