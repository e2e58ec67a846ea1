import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { canonicalRequest, signRequest } from '../../src/agent/auth/sigv4.js';
import { planGetParameter } from '../../src/agent/auth/ssm.js';
import { NodeSha256 } from './aws-standin.js';

const EXAMPLE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

describe('SigV4', () => {
  test("matches the AWS test suite's get-vanilla case", () => {
    const headers = signRequest({
      method: 'GET',
      url: 'https://example.amazonaws.com/',
      headers: {},
      body: '',
      region: 'us-east-1',
      service: 'service',
      credentials: EXAMPLE,
      now: new Date('2015-08-30T12:36:00Z'),
    });
    assert.equal(
      headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  test('canonical query strings are sorted and RFC 3986 encoded', () => {
    const { text } = canonicalRequest({
      method: 'GET',
      url: 'https://h.example/a%20b/?b=2&a=x%2Fy&a=1',
      headers: { Host: 'h.example' },
      body: '',
    });
    assert.equal(text.split('\n').slice(0, 3).join('\n'), 'GET\n/a%20b/\na=1&a=x%2Fy&b=2');
  });

  test('an SSM GetParameter request signs exactly as the AWS SDK signer does', async () => {
    const credentials = { ...EXAMPLE, sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' };
    const now = new Date('2026-03-01T10:20:30Z');
    const ours = planGetParameter('/gitstrap/app/token', credentials, 'eu-west-1', undefined, now);
    assert.equal(ours.url, 'https://ssm.eu-west-1.amazonaws.com/');
    assert.equal(ours.body, '{"Name":"/gitstrap/app/token","WithDecryption":true}');
    const signer = new SignatureV4({
      credentials,
      region: 'eu-west-1',
      service: 'ssm',
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const theirs = await signer.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: 'ssm.eu-west-1.amazonaws.com',
        path: '/',
        query: {},
        headers: {
          host: 'ssm.eu-west-1.amazonaws.com',
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AmazonSSM.GetParameter',
        },
        body: ours.body,
      },
      { signingDate: now },
    );
    assert.equal(ours.headers.authorization, theirs.headers.authorization);
    assert.equal(ours.headers['x-amz-security-token'], 'FwoGZXIvYXdzEXAMPLETOKEN');
  });
});
