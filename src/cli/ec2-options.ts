// The options every AWS command shares (--region, --endpoint-url, --json), and reading them. No AWS
// SDK here: command modules import this statically and the engine only inside run().
import { stringOpt, type OptionSpec, type ParsedArgs } from './command.js';
import { UsageError } from '../lib/errors.js';
import { isDeploymentId } from '../ec2/tags.js';

export const awsOptions = {
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies OptionSpec;

export const AWS_USAGE = `      --region REGION       the AWS region (default: launch.region for launch, else
                            AWS_REGION or the profile's)
      --endpoint-url URL    the EC2 endpoint (an EC2-compatible cloud); AWS_ENDPOINT_URL_EC2,
                            AWS_ENDPOINT_URL_SSM and AWS_ENDPOINT_URL_AUTO_SCALING also work.
                            There, SSM (--os) and Auto Scaling (fleets) are used only when
                            given an endpoint of their own ("bootstrap doctor" shows what is)
      --json                print the result as JSON`;

/** --region and --endpoint-url as engine options. */
export function engineOptionsFrom(
  args: ParsedArgs,
  fallbackRegion?: string,
): { region?: string; endpointUrl?: string } {
  const region = stringOpt(args, 'region') ?? fallbackRegion;
  const endpointUrl = stringOpt(args, 'endpoint-url');
  return { ...(region ? { region } : {}), ...(endpointUrl ? { endpointUrl } : {}) };
}

/** The DEPLOYMENT argument, checked for shape. */
export function deploymentArg(args: ParsedArgs): string {
  const id = args.positionals[0] ?? '';
  if (!isDeploymentId(id)) {
    throw new UsageError(
      `"${id}" is not a deployment id`,
      'a deployment id looks like open-qa-20261122-ab12; "bootstrap ls" lists them',
    );
  }
  return id;
}
