import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gitEnvFor } from '../../src/agent/auth/git-env.js';
import { shellQuote, sshCommand } from '../../src/agent/auth/ssh.js';
import { authorizationHeader } from '../../src/agent/auth/token.js';
import { tempDir } from '../helpers/tmp.js';
import { startAwsStandIn } from './aws-standin.js';

const HOST_KEY = '[127.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyForTests';

describe('git credentials', () => {
  test('a token file becomes an Authorization header in the git environment, never on argv', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'token');
    writeFileSync(file, 's3cret-token\n', { mode: 0o600 });
    return gitEnvFor('data', { token_file: file }, { authDir: dir, env: {} }).then((env) => {
      assert.deepEqual(env, {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from('x-access-token:s3cret-token').toString('base64')}`,
      });
    });
  });

  test('"user:password" in a token file is used as the basic-auth pair', () => {
    assert.equal(
      authorizationHeader('deploy:pw'),
      `Authorization: Basic ${Buffer.from('deploy:pw').toString('base64')}`,
    );
  });

  test('refuses a key or token file that group or others can read', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'token');
    writeFileSync(file, 'x', { mode: 0o644 });
    await assert.rejects(
      gitEnvFor('service', { token_file: file }, { authDir: dir, env: {} }),
      (error: Error & { hint?: string }) => {
        assert.equal(
          error.message,
          `service.auth.token_file: ${file} is readable by others (mode 0644); refusing to use it`,
        );
        assert.equal(error.hint, `run: chmod 600 ${file} (and chown it to the agent user)`);
        return true;
      },
    );
    await assert.rejects(
      gitEnvFor(
        'service',
        { ssh_key_file: path.join(dir, 'missing'), known_hosts: [HOST_KEY] },
        { authDir: dir, env: {} },
      ),
      /service\.auth\.ssh_key_file: cannot read .*missing \(ENOENT\)/,
    );
  });

  test('an SSH key: only that key, only the pinned host keys, no prompts', async (t) => {
    const dir = tempDir(t);
    const key = path.join(dir, "deploy key's file");
    writeFileSync(key, 'key', { mode: 0o600 });
    const env = await gitEnvFor(
      'service',
      { ssh_key_file: key, known_hosts: [HOST_KEY] },
      { authDir: path.join(dir, 'auth'), env: {} },
    );
    const hosts = path.join(dir, 'auth', 'service.known_hosts');
    assert.equal(env.GIT_SSH_COMMAND, sshCommand(key, hosts));
    assert.equal(
      sshCommand('/k', '/h'),
      "ssh -i '/k' -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='/h' -o BatchMode=yes",
    );
    assert.equal(shellQuote("a'b"), `'a'\\''b'`);
    assert.equal(readFileSync(hosts, 'utf8'), `${HOST_KEY}\n`);
    assert.equal(statSync(hosts).mode & 0o777, 0o600);
  });

  test('an SSM parameter is read with the instance role (IMDSv2 + signed GetParameter)', async (t) => {
    const dir = tempDir(t);
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    const aws = await startAwsStandIn(t, {
      '/gitstrap/token': 'token-from-ssm',
      '/gitstrap/key': key,
    });
    const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: aws.url, AWS_ENDPOINT_URL_SSM: aws.url };

    const tokenEnv = await gitEnvFor(
      'data',
      { ssm_parameter: '/gitstrap/token' },
      { authDir: dir, env },
    );
    assert.equal(tokenEnv.GIT_CONFIG_VALUE_0, authorizationHeader('token-from-ssm'));
    assert.deepEqual(aws.requests, [
      'PUT /latest/api/token',
      'GET /latest/meta-data/iam/security-credentials/',
      'GET /latest/meta-data/iam/security-credentials/gitstrap-role',
      'GET /latest/meta-data/placement/region',
      'POST /',
    ]);

    const sshEnv = await gitEnvFor(
      'service',
      { ssm_parameter: '/gitstrap/key', known_hosts: [HOST_KEY] },
      { authDir: dir, env },
    );
    const keyFile = path.join(dir, 'service.key');
    assert.equal(
      sshEnv.GIT_SSH_COMMAND,
      sshCommand(keyFile, path.join(dir, 'service.known_hosts')),
    );
    assert.equal(readFileSync(keyFile, 'utf8'), `${key}\n`);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);

    await assert.rejects(
      gitEnvFor('data', { ssm_parameter: '/gitstrap/missing' }, { authDir: dir, env }),
      /SSM parameter \/gitstrap\/missing: HTTP 400 .*ParameterNotFound/,
    );
  });

  test('without a metadata service: one clear message', async (t) => {
    const dir = tempDir(t);
    const env = {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
      AWS_REGION: 'eu-west-1',
    };
    await assert.rejects(
      gitEnvFor('data', { ssm_parameter: '/x' }, { authDir: dir, env }),
      (error: Error & { hint?: string }) => {
        assert.match(error.message, /^metadata token: cannot reach http:\/\/127\.0\.0\.1:9/);
        assert.match(error.hint ?? '', /instance profile/);
        return true;
      },
    );
  });
});
