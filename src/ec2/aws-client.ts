// The AWS calls the commands make, one method each, sent through the SDK clients with gitstrap's
// retry policy. Every method's name is a row of the call table (calls.ts); tests check that each
// pairs with the command of the same name.
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  PutScheduledUpdateGroupActionCommand,
  StartInstanceRefreshCommand,
  type CreateAutoScalingGroupCommandInput,
  type DeleteAutoScalingGroupCommandInput,
  type DescribeAutoScalingGroupsCommandInput,
  type PutScheduledUpdateGroupActionCommandInput,
  type StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type AuthorizeSecurityGroupIngressCommandInput,
  type CreateLaunchTemplateCommandInput,
  type CreateLaunchTemplateVersionCommandInput,
  type CreateSecurityGroupCommandInput,
  type CreateTagsCommandInput,
  type DeleteLaunchTemplateCommandInput,
  type DeleteSecurityGroupCommandInput,
  type DescribeImagesCommandInput,
  type DescribeInstancesCommandInput,
  type DescribeLaunchTemplatesCommandInput,
  type DescribeLaunchTemplateVersionsCommandInput,
  type DescribeSecurityGroupsCommandInput,
  type DescribeSubnetsCommandInput,
  type RunInstancesCommandInput,
  type TerminateInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient, type GetParameterCommandInput } from '@aws-sdk/client-ssm';
import type { AwsCallName } from './calls.js';
import type { Endpoints } from './cloud.js';
import { AwsCallError } from './errors.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';

/** The three SDK clients the launcher uses. */
export interface AwsClients {
  ec2: EC2Client;
  ssm: SSMClient;
  autoscaling: AutoScalingClient;
}

export interface ClientOptions {
  region?: string;
  /** EC2's endpoint (--endpoint-url); the others come from AWS_ENDPOINT_URL_SSM etc. (or nowhere). */
  endpointUrl?: string;
}

/** SDK clients with the standard credential chain; the SDK's own retries are off (ours are on). */
export function createAwsClients(options: ClientOptions = {}): AwsClients {
  const common = {
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
    ...(options.region ? { region: options.region } : {}),
  };
  return {
    ec2: new EC2Client({
      ...common,
      ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
    }),
    ssm: new SSMClient(common),
    autoscaling: new AutoScalingClient(common),
  };
}

/** What the SDK resolves a client's endpoint from, beyond its own default for the region. */
interface EndpointConfig {
  isCustomEndpoint?: boolean;
  endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
  ignoreConfiguredEndpointUrls?: boolean;
  serviceConfiguredEndpoint?: () => Promise<string | undefined>;
}

/**
 * The endpoint each client sends to when it is not AWS's own: given in code (--endpoint-url), or
 * configured as the SDK reads it (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
 * services section; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns those off).
 */
export async function configuredEndpoints(clients: AwsClients): Promise<Endpoints> {
  const endpointOf = async (client: { config: unknown }): Promise<string | undefined> => {
    const config = client.config as EndpointConfig;
    try {
      if (config.isCustomEndpoint && config.endpoint) {
        const e = await config.endpoint();
        return `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path === '/' ? '' : e.path}`;
      }
      if (config.ignoreConfiguredEndpointUrls) return undefined;
      return (await config.serviceConfiguredEndpoint?.()) || undefined;
    } catch {
      return undefined;
    }
  };
  const [ec2, ssm, autoscaling] = await Promise.all([
    endpointOf(clients.ec2),
    endpointOf(clients.ssm),
    endpointOf(clients.autoscaling),
  ]);
  return {
    ...(ec2 ? { ec2 } : {}),
    ...(ssm ? { ssm } : {}),
    ...(autoscaling ? { autoscaling } : {}),
  };
}

/** Closes the clients' connections. */
export function destroyAwsClients(clients: AwsClients): void {
  clients.ec2.destroy();
  clients.ssm.destroy();
  clients.autoscaling.destroy();
}

export interface ApiOptions extends Partial<RetryOptions> {
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Told of every call before it is sent (tests and --verbose). */
  onCall?: (name: AwsCallName) => void;
}

/** The calls, each sent with retries and failing with an AwsCallError. */
export function createAwsApi(clients: AwsClients, options: ApiOptions) {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...options };
  const call = async <T>(name: AwsCallName, send: () => Promise<T>): Promise<T> => {
    options.onCall?.(name);
    try {
      return await withRetry(send, retry);
    } catch (error) {
      throw new AwsCallError(name, error);
    }
  };
  const { ec2, ssm, autoscaling } = clients;
  return {
    getParameter: (i: GetParameterCommandInput) =>
      call('ssm:GetParameter', () => ssm.send(new GetParameterCommand(i))),
    describeImages: (i: DescribeImagesCommandInput) =>
      call('ec2:DescribeImages', () => ec2.send(new DescribeImagesCommand(i))),
    describeSubnets: (i: DescribeSubnetsCommandInput) =>
      call('ec2:DescribeSubnets', () => ec2.send(new DescribeSubnetsCommand(i))),
    createSecurityGroup: (i: CreateSecurityGroupCommandInput) =>
      call('ec2:CreateSecurityGroup', () => ec2.send(new CreateSecurityGroupCommand(i))),
    authorizeSecurityGroupIngress: (i: AuthorizeSecurityGroupIngressCommandInput) =>
      call('ec2:AuthorizeSecurityGroupIngress', () =>
        ec2.send(new AuthorizeSecurityGroupIngressCommand(i)),
      ),
    createTags: (i: CreateTagsCommandInput) =>
      call('ec2:CreateTags', () => ec2.send(new CreateTagsCommand(i))),
    describeSecurityGroups: (i: DescribeSecurityGroupsCommandInput) =>
      call('ec2:DescribeSecurityGroups', () => ec2.send(new DescribeSecurityGroupsCommand(i))),
    deleteSecurityGroup: (i: DeleteSecurityGroupCommandInput) =>
      call('ec2:DeleteSecurityGroup', () => ec2.send(new DeleteSecurityGroupCommand(i))),
    runInstances: (i: RunInstancesCommandInput) =>
      call('ec2:RunInstances', () => ec2.send(new RunInstancesCommand(i))),
    describeInstances: (i: DescribeInstancesCommandInput) =>
      call('ec2:DescribeInstances', () => ec2.send(new DescribeInstancesCommand(i))),
    terminateInstances: (i: TerminateInstancesCommandInput) =>
      call('ec2:TerminateInstances', () => ec2.send(new TerminateInstancesCommand(i))),
    createLaunchTemplate: (i: CreateLaunchTemplateCommandInput) =>
      call('ec2:CreateLaunchTemplate', () => ec2.send(new CreateLaunchTemplateCommand(i))),
    describeLaunchTemplates: (i: DescribeLaunchTemplatesCommandInput) =>
      call('ec2:DescribeLaunchTemplates', () => ec2.send(new DescribeLaunchTemplatesCommand(i))),
    describeLaunchTemplateVersions: (i: DescribeLaunchTemplateVersionsCommandInput) =>
      call('ec2:DescribeLaunchTemplateVersions', () =>
        ec2.send(new DescribeLaunchTemplateVersionsCommand(i)),
      ),
    createLaunchTemplateVersion: (i: CreateLaunchTemplateVersionCommandInput) =>
      call('ec2:CreateLaunchTemplateVersion', () =>
        ec2.send(new CreateLaunchTemplateVersionCommand(i)),
      ),
    deleteLaunchTemplate: (i: DeleteLaunchTemplateCommandInput) =>
      call('ec2:DeleteLaunchTemplate', () => ec2.send(new DeleteLaunchTemplateCommand(i))),
    createAutoScalingGroup: (i: CreateAutoScalingGroupCommandInput) =>
      call('autoscaling:CreateAutoScalingGroup', () =>
        autoscaling.send(new CreateAutoScalingGroupCommand(i)),
      ),
    putScheduledUpdateGroupAction: (i: PutScheduledUpdateGroupActionCommandInput) =>
      call('autoscaling:PutScheduledUpdateGroupAction', () =>
        autoscaling.send(new PutScheduledUpdateGroupActionCommand(i)),
      ),
    describeAutoScalingGroups: (i: DescribeAutoScalingGroupsCommandInput) =>
      call('autoscaling:DescribeAutoScalingGroups', () =>
        autoscaling.send(new DescribeAutoScalingGroupsCommand(i)),
      ),
    deleteAutoScalingGroup: (i: DeleteAutoScalingGroupCommandInput) =>
      call('autoscaling:DeleteAutoScalingGroup', () =>
        autoscaling.send(new DeleteAutoScalingGroupCommand(i)),
      ),
    startInstanceRefresh: (i: StartInstanceRefreshCommandInput) =>
      call('autoscaling:StartInstanceRefresh', () =>
        autoscaling.send(new StartInstanceRefreshCommand(i)),
      ),
  };
}

/** The calls as the flows see them. */
export type AwsApi = ReturnType<typeof createAwsApi>;
