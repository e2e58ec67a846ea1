// `bootstrap doctor`: what the endpoint in reach offers and what gitstrap will do there. Read-only
// calls to each service, and the DryRun RunInstances probe (for an image no cloud has) that learns
// which newer EC2 parameters the API takes. The report is data; formatDoctorReport is pure.
import {
  isServiceMissing,
  SERVICES,
  type Ec2Parameters,
  type Endpoints,
  type OptionalService,
} from './cloud.js';
import { GitstrapError } from '../lib/errors.js';
import { isUnknownAction } from './errors.js';
import {
  buildDescribeAutoScalingGroupsRequest,
  buildDescribeDeploymentLaunchTemplatesRequest,
} from './fleet-requests.js';
import type { FlowEnv } from './flow-env.js';
import { buildGetImageParameterRequest } from './images.js';
import { buildDescribeDeploymentInstancesRequest } from './instance-requests.js';
import { probeEc2Parameters } from './older-api.js';

/** One thing looked at: yes, no, or not known, and what was seen. */
export interface Check {
  status: 'yes' | 'no' | 'unknown';
  detail: string;
}

export interface DoctorReport {
  region: string;
  /** The endpoints configured (none: AWS's own). */
  endpoints: Endpoints;
  /** EC2 answers (with these credentials, in this region). */
  ec2: Check;
  /** Which newer EC2 parameters the API takes (probed with DryRun). */
  parameters: Pick<Ec2Parameters, 'tagOnCreate' | 'metadataOptions' | 'dryRun'>;
  launchTemplates: Check;
  autoscaling: Check;
  ssm: Check;
  /** What gitstrap does there: [command, how] lines. */
  gitstrap: Array<[string, string]>;
}

/** The instance type the parameter probe names (its image does not exist, so it never starts). */
const PROBE_TYPE = 't3.micro';

/** Looks at the endpoint: EC2, its parameters and launch templates, Auto Scaling, SSM. */
export async function runDoctor(env: FlowEnv, region: string): Promise<DoctorReport> {
  const report: DoctorReport = {
    region,
    endpoints: env.cloud.endpoints,
    ec2: { status: 'unknown', detail: '' },
    parameters: {},
    launchTemplates: { status: 'unknown', detail: 'not asked' },
    autoscaling: { status: 'unknown', detail: 'not asked' },
    ssm: { status: 'unknown', detail: 'not asked' },
    gitstrap: [],
  };
  try {
    await env.api.describeInstances(buildDescribeDeploymentInstancesRequest());
    report.ec2 = { status: 'yes', detail: 'answers' };
  } catch (error) {
    report.ec2 = { status: 'no', detail: describe(error) };
    const hint = error instanceof GitstrapError ? error.hint : undefined;
    report.gitstrap = [['every command', `needs EC2 to answer${hint ? `: ${hint}` : ''}`]];
    return report;
  }

  await probeEc2Parameters(env, PROBE_TYPE);
  const { tagOnCreate, metadataOptions, dryRun } = env.cloud.ec2;
  report.parameters = {
    ...(tagOnCreate === undefined ? {} : { tagOnCreate }),
    ...(metadataOptions === undefined ? {} : { metadataOptions }),
    ...(dryRun === undefined ? {} : { dryRun }),
  };

  try {
    await env.api.describeLaunchTemplates(buildDescribeDeploymentLaunchTemplatesRequest());
    report.launchTemplates = { status: 'yes', detail: 'answers' };
  } catch (error) {
    report.launchTemplates = isUnknownAction(error)
      ? { status: 'no', detail: 'not offered (DescribeLaunchTemplates is unknown here)' }
      : { status: 'unknown', detail: describe(error) };
  }

  report.autoscaling = await checkService(env, 'autoscaling', () =>
    env.api.describeAutoScalingGroups(buildDescribeAutoScalingGroupsRequest({})),
  );
  report.ssm = await checkService(env, 'ssm', () =>
    env.api.getParameter(buildGetImageParameterRequest('debian-12')),
  );
  if (report.ssm.status === 'no' && /ParameterNotFound/.test(report.ssm.detail)) {
    report.ssm.detail = 'answers, but has no public image parameters';
  }
  report.gitstrap = whatGitstrapDoes(report, env.awsCliOptions);
  return report;
}

async function checkService(
  env: FlowEnv,
  service: OptionalService,
  ask: () => Promise<unknown>,
): Promise<Check> {
  const reason = env.cloud.reason(service);
  if (reason !== undefined) return { status: 'no', detail: `not used: ${reason}` };
  try {
    await ask();
    return { status: 'yes', detail: `answers${at(env.cloud.endpoints[service])}` };
  } catch (error) {
    if (isServiceMissing(error)) {
      env.cloud.markUnavailable(service, error);
      return { status: 'no', detail: env.cloud.reason(service) ?? describe(error) };
    }
    return { status: 'no', detail: describe(error) };
  }
}

const at = (endpoint: string | undefined) => (endpoint ? ` at ${endpoint}` : '');

/** An error as one line: the call's message (its hint is the report's business). */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The commands and how each works there, from what was found. */
export function whatGitstrapDoes(
  report: DoctorReport,
  awsCliOptions: string,
): Array<[string, string]> {
  const { tagOnCreate, metadataOptions } = report.parameters;
  const image =
    report.ssm.status === 'yes'
      ? '--os (current public image) or --image'
      : `--image IMAGE-ID only (aws ec2 describe-images ${awsCliOptions} lists them)`;
  const tags =
    tagOnCreate === true
      ? 'tags at creation'
      : tagOnCreate === false
        ? 'tags with CreateTags right after each create (the credentials need ec2:CreateTags)'
        : 'tags at creation where the API takes them, else with CreateTags right after';
  const imds =
    metadataOptions === true
      ? 'IMDSv2 required'
      : metadataOptions === false
        ? 'IMDSv2 cannot be required: launch stops unless --allow-imdsv1'
        : 'IMDSv2 required where the API takes it, else launch stops unless --allow-imdsv1';
  const fleets =
    report.autoscaling.status !== 'yes'
      ? `unavailable: ${report.autoscaling.detail.replace(/^not used: /, '')}`
      : report.launchTemplates.status === 'no'
        ? 'unavailable: this EC2 API has no launch templates'
        : 'available';
  return [
    ['launch', `instances from ${image}`],
    ['', `${tags}; ${imds}`],
    ['launch --fleet, refresh', fleets],
    [
      'ls, down, reap',
      fleets === 'available' ? 'work' : `work, without fleets (${SERVICES.autoscaling.variable})`,
    ],
  ];
}

const yesNo = (value: boolean | undefined, no: string) =>
  value === undefined ? 'not known (the API has no DryRun to ask with)' : value ? 'yes' : no;

/** The report as a person reads it. */
export function formatDoctorReport(report: DoctorReport): string {
  const where = report.endpoints.ec2 ? `EC2-compatible cloud at ${report.endpoints.ec2}` : 'AWS';
  const rows: Array<[string, string]> = [['EC2', report.ec2.detail]];
  if (report.ec2.status === 'yes') {
    rows.push(
      ['  tags on create', yesNo(report.parameters.tagOnCreate, 'no (TagSpecification unknown)')],
      ['  IMDSv2', yesNo(report.parameters.metadataOptions, 'no (MetadataOptions unknown)')],
      ['  DryRun', yesNo(report.parameters.dryRun, 'no')],
      ['  launch templates', report.launchTemplates.detail],
      ['Auto Scaling', report.autoscaling.detail],
      ['SSM', report.ssm.detail],
    );
  }
  const table = (list: Array<[string, string]>) => {
    const width = Math.max(...list.map(([label]) => label.length));
    return list.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`);
  };
  return [
    `${where} (region ${report.region})`,
    ...table(rows),
    'gitstrap there:',
    ...table(report.gitstrap),
    '',
  ].join('\n');
}
