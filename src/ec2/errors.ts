// AWS failures as errors a person can act on: the call that failed, AWS's code and message, and a
// hint for the common ones (credentials, region, permissions, a missing image or key).
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { AwsCallName } from './calls.js';
import { errorCode } from './retry.js';

const HINTS: Array<[RegExp, string]> = [
  [
    /^(UnauthorizedOperation|AccessDenied.*|.*NotAuthorized.*)$/,
    'the credentials lack a permission: "bootstrap iam-policy" prints the policy the commands need',
  ],
  [
    /^(AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException|ExpiredToken.*|InvalidAccessKeyId)$/,
    'the AWS credentials were refused: check AWS_PROFILE / AWS_ACCESS_KEY_ID, or run "aws sso login"',
  ],
  [
    /^CredentialsProviderError$/,
    'no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run "aws configure"',
  ],
  [
    /^InvalidAMIID\./,
    'check --image (AMIs are per region), or use --os for a current public image',
  ],
  [
    /^InvalidKeyPair\./,
    'check --key-name: key pairs are per region ("aws ec2 describe-key-pairs")',
  ],
  [/^InvalidSubnetID\./, 'check --subnet: subnets are per region ("aws ec2 describe-subnets")'],
  [
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|TimeoutError|RequestTimeout)$/,
    'cannot reach the AWS endpoint: check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL_*)',
  ],
  [/^ParameterNotFound$/, 'this region has no such public image parameter: pass --image AMI'],
  [/^(Unsupported|InvalidParameterCombination)$/, 'try another --instance-type or --region'],
  [
    /^InstanceLimitExceeded|VcpuLimitExceeded$/,
    'ask for a higher EC2 quota, or launch fewer instances',
  ],
];

/** A failed AWS call. `code` is AWS's error code, for code that needs to tell cases apart. */
export class AwsCallError extends GitstrapError {
  readonly code: string;
  readonly call: AwsCallName;
  constructor(call: AwsCallName, cause: unknown) {
    const code = errorCode(cause) ?? 'Error';
    const raw = cause instanceof Error ? cause.message : String(cause);
    const message = /region is missing/i.test(raw)
      ? 'no AWS region given'
      : `${call} failed: ${code}${raw && raw !== code ? `: ${raw}` : ''}`;
    const hint = /region is missing/i.test(raw)
      ? 'pass --region REGION, set AWS_REGION, or set launch.region in the recipe'
      : HINTS.find(([pattern]) => pattern.test(code))?.[1];
    super(message, {
      cause,
      exitCode: /region is missing/i.test(raw) ? ExitCode.input : ExitCode.failed,
      ...(hint ? { hint } : {}),
    });
    this.name = 'AwsCallError';
    this.code = code;
    this.call = call;
  }
}

/** Whether an error is an AWS "no such resource" answer (the resource is already gone). */
export function isNotFound(error: unknown): boolean {
  const code = error instanceof AwsCallError ? error.code : errorCode(error);
  if (code === undefined) return false;
  if (/NotFound|\.Malformed$/.test(code)) return true;
  // Auto Scaling answers a missing group with a ValidationError.
  const message = error instanceof Error ? error.message : '';
  return code === 'ValidationError' && /not found/i.test(message);
}

/** The AWS error code of an error (AwsCallError or raw SDK error). */
export function awsCode(error: unknown): string | undefined {
  return error instanceof AwsCallError ? error.code : errorCode(error);
}
