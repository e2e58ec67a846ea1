// Reading an SSM SecureString with the instance role: an IMDSv2 session token, the role's temporary
// credentials from the metadata service, then GetParameter (WithDecryption) signed with SigV4.
// Endpoints follow the AWS SDK's variables so a test can point both at 127.0.0.1.
import http from 'node:http';
import { ExitCode, GitstrapError } from '../../lib/errors.js';
import { signRequest, type AwsCredentials } from './sigv4.js';

/** Where the metadata service and SSM are; defaults are the real ones. */
export interface AwsEndpoints {
  imds: string;
  /** undefined: https://ssm.REGION.amazonaws.com */
  ssm?: string;
  region?: string;
}

/** Endpoints from AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_ENDPOINT_URL_SSM and AWS_REGION. */
export function endpointsFromEnv(env: NodeJS.ProcessEnv): AwsEndpoints {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return {
    imds: (env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? 'http://169.254.169.254').replace(/\/+$/, ''),
    ...(env.AWS_ENDPOINT_URL_SSM ? { ssm: env.AWS_ENDPOINT_URL_SSM.replace(/\/+$/, '') } : {}),
    ...(region ? { region } : {}),
  };
}

/** One HTTP exchange: the answer's status and text. */
export type HttpCall = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
) => Promise<{ status: number; text: string }>;

/**
 * The real HTTP client (node:http/https; no global fetch, which Node 18 calls experimental).
 * node:https (and TLS under it) loads on first use: most agents never need it, and every module
 * costs start-up time on a small instance.
 */
export const httpCall: HttpCall = async (url, init) => {
  const client = url.startsWith('https:') ? (await import('node:https')).default : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers ?? {},
        timeout: init.timeoutMs,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(new Error(`no answer within ${init.timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.end(init.body);
  });
};

async function call(
  httpFn: HttpCall,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  what: string,
): Promise<string> {
  let response: { status: number; text: string };
  try {
    response = await httpFn(url, { ...init, timeoutMs: 5000 });
  } catch (error) {
    throw new GitstrapError(
      `${what}: cannot reach ${new URL(url).origin} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        hint: 'ssm_parameter works on an EC2 instance with an instance profile (launch.instance_profile)',
        exitCode: ExitCode.failed,
      },
    );
  }
  if (response.status < 200 || response.status >= 300) {
    throw new GitstrapError(`${what}: HTTP ${response.status} ${response.text.slice(0, 200)}`, {
      hint: 'the instance role needs ssm:GetParameter on the parameter (and kms:Decrypt for its key)',
      exitCode: ExitCode.failed,
    });
  }
  return response.text;
}

/** The instance role's credentials and the instance's region, from IMDSv2. */
export async function instanceRoleCredentials(
  endpoints: AwsEndpoints,
  httpFn: HttpCall = httpCall,
): Promise<{ credentials: AwsCredentials; region: string }> {
  const base = endpoints.imds;
  const token = await call(
    httpFn,
    `${base}/latest/api/token`,
    { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '300' } },
    'metadata token',
  );
  const headers = { 'x-aws-ec2-metadata-token': token };
  const roles = await call(
    httpFn,
    `${base}/latest/meta-data/iam/security-credentials/`,
    { headers },
    'instance role',
  );
  const role = roles.split('\n')[0]?.trim();
  if (!role) {
    throw new GitstrapError('this instance has no IAM role to read SSM parameters with', {
      hint: 'launch it with an instance profile (launch.instance_profile)',
    });
  }
  const body = JSON.parse(
    await call(
      httpFn,
      `${base}/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`,
      { headers },
      'role credentials',
    ),
  ) as { AccessKeyId?: string; SecretAccessKey?: string; Token?: string };
  if (!body.AccessKeyId || !body.SecretAccessKey) {
    throw new GitstrapError('the metadata service returned no role credentials', {
      exitCode: ExitCode.failed,
    });
  }
  const region =
    endpoints.region ??
    (
      await call(
        httpFn,
        `${base}/latest/meta-data/placement/region`,
        { headers },
        'instance region',
      )
    ).trim();
  return {
    credentials: {
      accessKeyId: body.AccessKeyId,
      secretAccessKey: body.SecretAccessKey,
      ...(body.Token ? { sessionToken: body.Token } : {}),
    },
    region,
  };
}

/** The signed GetParameter request (pure; exported for tests). */
export function planGetParameter(
  name: string,
  credentials: AwsCredentials,
  region: string,
  endpoint: string | undefined,
  now: Date,
): { url: string; headers: Record<string, string>; body: string } {
  const url = `${endpoint ?? `https://ssm.${region}.amazonaws.com`}/`;
  const body = JSON.stringify({ Name: name, WithDecryption: true });
  const headers = signRequest({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AmazonSSM.GetParameter',
    },
    body,
    region,
    service: 'ssm',
    credentials,
    now,
  });
  return { url, headers, body };
}

/** Reads an SSM parameter's decrypted value with the instance role. Never logs the value. */
export async function readSsmParameter(
  name: string,
  endpoints: AwsEndpoints,
  options: { http?: HttpCall; now?: () => Date } = {},
): Promise<string> {
  const httpFn = options.http ?? httpCall;
  const { credentials, region } = await instanceRoleCredentials(endpoints, httpFn);
  const request = planGetParameter(
    name,
    credentials,
    region,
    endpoints.ssm,
    (options.now ?? (() => new Date()))(),
  );
  const text = await call(
    httpFn,
    request.url,
    { method: 'POST', headers: request.headers, body: request.body },
    `SSM parameter ${name}`,
  );
  const value = (JSON.parse(text) as { Parameter?: { Value?: string } }).Parameter?.Value;
  if (value === undefined) {
    throw new GitstrapError(`SSM parameter ${name}: the answer had no value`, {
      exitCode: ExitCode.failed,
    });
  }
  return value;
}
