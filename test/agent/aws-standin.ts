// A local stand-in for the EC2 metadata service (IMDSv2) and SSM GetParameter on 127.0.0.1. It checks
// what the real ones check: the IMDSv2 session token, and the SigV4 signature, recomputed with the
// AWS SDK's own signer.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Source) =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** node:crypto in the shape the AWS SDK's signer takes (an independent SigV4 implementation). */
export class NodeSha256 {
  private hash;
  constructor(private readonly secret?: Source) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined
      ? createHash('sha256')
      : createHmac('sha256', bytes(this.secret));
  }
  update(data: Source) {
    this.hash.update(bytes(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    this.hash = this.fresh();
  }
}

export const ROLE_CREDENTIALS = {
  AccessKeyId: 'ASIATESTROLEKEY00001',
  SecretAccessKey: 'role-secret-key-for-the-stand-in',
  Token: 'role-session-token',
};

export interface AwsStandIn {
  url: string;
  /** Requests seen, "METHOD path". */
  requests: string[];
}

/** Serves IMDSv2 under /latest and SSM at POST /, with `parameters` as the parameter store. */
export async function startAwsStandIn(
  t: Pick<TestContext, 'after'>,
  parameters: Record<string, string>,
  region = 'eu-west-1',
): Promise<AwsStandIn> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void answer(Buffer.concat(chunks).toString()));
    const answer = async (body: string) => {
      requests.push(`${req.method} ${req.url}`);
      const send = (status: number, text: string) => res.writeHead(status).end(text);
      if (req.url === '/latest/api/token') {
        if (req.method !== 'PUT' || !req.headers['x-aws-ec2-metadata-token-ttl-seconds'])
          return send(400, 'IMDSv2 needs PUT with a TTL');
        return send(200, 'imds-session-token');
      }
      if (req.url?.startsWith('/latest/')) {
        if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-session-token')
          return send(401, 'no IMDSv2 token');
        if (req.url === '/latest/meta-data/iam/security-credentials/')
          return send(200, 'gitstrap-role');
        if (req.url === '/latest/meta-data/iam/security-credentials/gitstrap-role') {
          return send(200, JSON.stringify({ Code: 'Success', ...ROLE_CREDENTIALS }));
        }
        if (req.url === '/latest/meta-data/placement/region') return send(200, region);
        return send(404, 'not found');
      }
      if (req.method === 'POST' && req.url === '/') {
        const date = String(req.headers['x-amz-date']);
        const signingDate = new Date(
          date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
        );
        const signer = new SignatureV4({
          credentials: {
            accessKeyId: ROLE_CREDENTIALS.AccessKeyId,
            secretAccessKey: ROLE_CREDENTIALS.SecretAccessKey,
            sessionToken: ROLE_CREDENTIALS.Token,
          },
          region,
          service: 'ssm',
          sha256: NodeSha256,
          applyChecksum: false,
        });
        const expected = await signer.sign(
          {
            method: 'POST',
            protocol: 'http:',
            hostname: String(req.headers.host).split(':')[0]!,
            path: '/',
            query: {},
            headers: {
              host: String(req.headers.host),
              'content-type': String(req.headers['content-type']),
              'x-amz-target': String(req.headers['x-amz-target']),
            },
            body,
          },
          { signingDate },
        );
        if (req.headers.authorization !== expected.headers.authorization) {
          return send(403, JSON.stringify({ __type: 'InvalidSignatureException' }));
        }
        if (req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter')
          return send(400, 'unknown target');
        const { Name, WithDecryption } = JSON.parse(body) as {
          Name: string;
          WithDecryption: boolean;
        };
        const value = parameters[Name];
        if (value === undefined) return send(400, JSON.stringify({ __type: 'ParameterNotFound' }));
        return send(
          200,
          JSON.stringify({
            Parameter: { Name, Type: 'SecureString', Value: WithDecryption ? value : 'ciphertext' },
          }),
        );
      }
      send(404, 'not found');
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests };
}
