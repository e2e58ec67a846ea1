// AWS failures as errors a person can act on: the call that failed, AWS's code and message, and a
// hint for the common ones (credentials, region, permissions, a missing image or key). Also what an
// answer says about the endpoint: a parameter or an action it does not know, or no answer at all.
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { AwsCallName } from './calls.js';
import { errorCode } from './retry.js';

/** Codes of an endpoint that cannot be reached (no such host, nothing listening, no answer). */
const UNREACHABLE =
  /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|TimeoutError|RequestTimeout)$/;

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
    UNREACHABLE,
    'cannot reach the AWS endpoint: check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL_*)',
  ],
  [/^ParameterNotFound$/, 'this region has no such public image parameter: pass --image AMI'],
  [/^(Unsupported|InvalidParameterCombination)$/, 'try another --instance-type or --region'],
  [
    /^InstanceLimitExceeded|VcpuLimitExceeded$/,
    'ask for a higher EC2 quota, or launch fewer instances',
  ],
  [
    // AWS's code, and the code an older Eucalyptus gives every refused request ("400 Bad Request").
    /^(UnknownParameter|InvalidAction|UnknownOperationException|MissingAction|\d{3} [A-Z][\w ]*)$/,
    'this endpoint does not take the request as sent (an EC2-compatible API older than AWS\'s): "bootstrap doctor --endpoint-url URL" shows what it takes',
  ],
];

/** A failed AWS call. `code` is AWS's error code, for code that needs to tell cases apart. */
export class AwsCallError extends GitstrapError {
  readonly code: string;
  readonly call: AwsCallName;
  constructor(call: AwsCallName, cause: unknown) {
    const code = errorCode(cause) ?? 'Error';
    // One line: some endpoints answer with a list, one item a line.
    const raw = (cause instanceof Error ? cause.message : String(cause))
      .trim()
      .replace(/\s*\n\s*/g, '; ');
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

/** The message the endpoint itself gave (not gitstrap's "CALL failed: CODE: ..." around it). */
function answerOf(error: unknown): string {
  const inner = error instanceof AwsCallError ? error.cause : error;
  return inner instanceof Error ? inner.message : String(inner ?? '');
}

/** Parameters a request carried that the EC2 API refused as unknown. */
export interface UnknownParameters {
  /** The parameters as named on the wire ("TagSpecification.1.ResourceType", "MetadataOptions"). */
  paths: string[];
  /** True when the answer lists every unknown parameter (not only the first one). */
  complete: boolean;
}

/**
 * What an EC2 API said about parameters it does not know, when that is why it refused a request:
 * AWS's UnknownParameter ("The parameter MetadataOptions is not recognized", the first one only), or
 * an older Eucalyptus's binding error (code "400 Bad Request", "Failed to bind the following
 * fields:" and a line "NAME = VALUE" for every parameter left over). Undefined for any other answer.
 */
export function unknownParameters(error: unknown): UnknownParameters | undefined {
  const message = answerOf(error);
  const bound = /Failed to bind the following fields:?\s*\n([\s\S]*)/.exec(message);
  if (bound) {
    const paths = bound[1]!
      .split('\n')
      .map((line) => line.split('=')[0]!.trim())
      .filter((path) => /^[A-Za-z][\w.]*$/.test(path));
    if (paths.length) return { paths: [...new Set(paths)], complete: true };
  }
  if (awsCode(error) === 'UnknownParameter') {
    const named = /parameter\s+([A-Za-z][\w.]*)/i.exec(message)?.[1];
    return { paths: named ? [named] : [], complete: false };
  }
  return undefined;
}

/** Whether the endpoint answered that it has no such action (or does not speak this service). */
export function isUnknownAction(error: unknown): boolean {
  const code = awsCode(error) ?? '';
  if (/^(InvalidAction|UnknownOperationException|MissingAction)$/.test(code)) return true;
  const message = answerOf(error);
  // An older Eucalyptus: "Failed to find corresponding class mapping for element: ACTION ...".
  if (/Failed to find corresponding class mapping for element/.test(message)) return true;
  // An answer in another protocol (an EC2 endpoint's XML to an SSM JSON request).
  return code === 'SyntaxError' && /Deserialization error/.test(message);
}

/** Whether the endpoint could not be reached at all (no such host, nothing listening, no answer). */
export function isUnreachable(error: unknown): boolean {
  return UNREACHABLE.test(awsCode(error) ?? '');
}
