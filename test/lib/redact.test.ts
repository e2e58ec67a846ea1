// The one definition of what a credential looks like, against a corpus of real token shapes and of
// look-alikes that must stay. Tokens are built from parts, so no scanner mistakes this file for a leak.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findSecret, redactDeep, redactSecrets } from '../../src/lib/redact.js';
import { credentialIn } from '../../src/recipe/secrets.js';

const alnum = (n: number, seed = 'a1B2c3D4e5') =>
  seed.repeat(Math.ceil(n / seed.length)).slice(0, n);
const hex = (n: number) => '0123456789abcdef'.repeat(Math.ceil(n / 16)).slice(0, n);

/** Each credential in a context, the kind found, and what is left of it once redacted. */
const POSITIVES: Array<{ text: string; kind: string; redacted: string }> = [
  ...['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'].map((prefix) => ({
    text: `token ${prefix}${alnum(36)} here`,
    kind: 'a GitHub token',
    redacted: `token ${prefix}*** here`,
  })),
  {
    text: `GITHUB_TOKEN=github_pat_${alnum(22)}_${alnum(59)}`,
    kind: 'a GitHub fine-grained token',
    redacted: 'GITHUB_TOKEN=github_pat_***',
  },
  {
    text: `PRIVATE-TOKEN: glpat-${alnum(20, 'xY_z-9')}`,
    kind: 'a GitLab token',
    redacted: 'PRIVATE-TOKEN: glpat-***',
  },
  {
    text: `key id AKIA${'IOSFODNN7EXAMPLE'} in use`,
    kind: 'an AWS access key id',
    redacted: 'key id AKIA*** in use',
  },
  {
    text: `"AccessKeyId": "ASIA${'Q3EGVXMPLE4WZ2AB'}"`,
    kind: 'an AWS access key id',
    redacted: '"AccessKeyId": "ASIA***"',
  },
  {
    text: `aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY${'EXAMPLEKEY'}`,
    kind: 'an AWS secret access key',
    redacted: 'aws_secret_access_key = ***',
  },
  {
    text: `{"SecretAccessKey": "${alnum(30)}/+${alnum(8)}"}`,
    kind: 'an AWS secret access key',
    redacted: '{"SecretAccessKey": "***"}',
  },
  {
    text: `AWS_SECRET_ACCESS_KEY=${alnum(40)}`,
    kind: 'an AWS secret access key',
    redacted: 'AWS_SECRET_ACCESS_KEY=***',
  },
  ...['xoxb-', 'xoxp-', 'xoxa-', 'xoxs-'].map((prefix) => ({
    text: `slack ${prefix}${'1234567890-'}${alnum(24)}`,
    kind: 'a Slack token',
    redacted: `slack ${prefix}***`,
  })),
  {
    text: `Authorization: Bearer eyJ${alnum(20)}.eyJ${alnum(40)}.${alnum(43, 'Sf-_x')}`,
    kind: 'a JSON web token',
    redacted: 'Authorization: Bearer eyJ***',
  },
  {
    text: 'fatal: https://u:hunter2@github.com/x/y.git not found',
    kind: 'a user name or token in the URL',
    redacted: 'fatal: https://***@github.com/x/y.git not found',
  },
  {
    text: `https://x-access-token:ghs_${alnum(36)}@github.com/x.git`,
    kind: 'a user name or token in the URL',
    redacted: 'https://***@github.com/x.git',
  },
  {
    text: 'http://tok3n@example.org/x',
    kind: 'a user name or token in the URL',
    redacted: 'http://***@example.org/x',
  },
  {
    text: 'git clone https://user:p@ss@example.org/x.git',
    kind: 'a user name or token in the URL',
    redacted: 'git clone https://***@example.org/x.git',
  },
  {
    text: 'ssh://git:pw@h/x',
    kind: 'a user name or token in the URL',
    redacted: 'ssh://***@h/x',
  },
  ...[
    'access_token',
    'token',
    'private_token',
    'key',
    'sig',
    'X-Amz-Signature',
    'X-Amz-Security-Token',
    'client_secret',
  ].map((name) => ({
    text: `GET https://example.org/x.git?ref=main&${name}=${hex(40)}&page=2 failed`,
    kind: 'a token in the query string',
    redacted: `GET https://example.org/x.git?ref=main&${name}=***&page=2 failed`,
  })),
  {
    text: `https://github.com/x/y.git?access_token=${hex(40)}`,
    kind: 'a token in the query string',
    redacted: 'https://github.com/x/y.git?access_token=***',
  },
  {
    text: `got "https://h/a?TOKEN=${alnum(12)}"`,
    kind: 'a token in the query string',
    redacted: 'got "https://h/a?TOKEN=***"',
  },
  {
    text: `key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA${alnum(64)}\n${alnum(64)}\n-----END RSA PRIVATE KEY-----\nafter`,
    kind: 'a private key',
    redacted: 'key:\n-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\nafter',
  },
  {
    text: `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA${alnum(40)}`,
    kind: 'a private key',
    redacted: '-----BEGIN OPENSSH PRIVATE KEY-----***',
  },
  {
    text: `npm token npm_${alnum(36)}`,
    kind: 'an npm token',
    redacted: 'npm token npm_***',
  },
];

/** Look-alikes that are not credentials: they must stay exactly as they are. */
const NEGATIVES = [
  'e83c5163316f89bfbde7d9ab23ca2e25604af290',
  `commit ${hex(40)} of https://github.com/x/y.git`,
  'https://github.com/eucalyptus/open-qa.git',
  'https://example.org/search?q=token&page=2&monkey=1&tokenize=yes',
  'ssh://git@github.com/x/y.git',
  'git@github.com:x/y.git',
  'git+ssh://git@host/x',
  'mailto:someone@example.org',
  'user@example.org wrote',
  'sha256: ' + hex(64),
  'npm_config_registry=https://registry.npmjs.org/',
  'ghp_short',
  'the key is in auth.token_file',
  'aws_secret_access_key is read from the instance role',
  '-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@x',
  'eyJhbGciOiJIUzI1NiJ9 alone is just base64',
];

describe('what a credential looks like', () => {
  for (const { text, kind, redacted } of POSITIVES) {
    test(`${kind}: ${JSON.stringify(text.slice(0, 48))}`, () => {
      assert.equal(findSecret(text), kind);
      assert.equal(redactSecrets(text), redacted);
      assert.equal(findSecret(redactSecrets(text)), undefined, 'nothing is left to find');
    });
  }

  test('look-alikes stay as they are', () => {
    for (const text of NEGATIVES) {
      assert.equal(findSecret(text), undefined, text);
      assert.equal(redactSecrets(text), text);
    }
  });

  test('the recipe check and the redaction agree: one definition', () => {
    for (const { text } of POSITIVES) assert.ok(credentialIn(text), text);
    for (const text of NEGATIVES) assert.equal(credentialIn(text), undefined, text);
  });

  test('every credential in a text goes, not only the first', () => {
    const a = `ghp_${alnum(36)}`;
    const b = `glpat-${alnum(24)}`;
    assert.equal(
      redactSecrets(`${a} and https://u:p@h/x and ${b} and ${a}`),
      'ghp_*** and https://***@h/x and glpat-*** and ghp_***',
    );
  });

  test('redactDeep redacts strings and keys of plain values, and keeps other objects', () => {
    const when = new Date(0);
    const token = `ghp_${alnum(36)}`;
    assert.deepEqual(redactDeep({ a: [`x ${token}`, 1, null, { [token]: true }], when, n: 2 }), {
      a: ['x ghp_***', 1, null, { 'ghp_***': true }],
      when,
      n: 2,
    });
  });
});
