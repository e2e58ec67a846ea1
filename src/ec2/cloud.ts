// What the cloud in reach offers: EC2 at AWS's own endpoint or at an EC2-compatible cloud's, whether
// Auto Scaling (fleets) and SSM (image lookup) can be used there, and which newer EC2 parameters its
// API takes. Decided from the configured endpoints before any call (planServices), then corrected by
// what the calls learn (an endpoint that does not answer, a parameter the API refuses).
import { GitstrapError } from '../lib/errors.js';
import { awsCode, isUnknownAction, isUnreachable } from './errors.js';
import type { FlowEnv } from './flow-env.js';

/** The services besides EC2, each needed only by some commands. */
export type OptionalService = 'autoscaling' | 'ssm';

/** The endpoints configured for each service; undefined: AWS's own for the region. */
export interface Endpoints {
  ec2?: string;
  ssm?: string;
  autoscaling?: string;
}

export type Availability = { available: true } | { available: false; reason: string };

/** How each optional service is named, what needs it, and the variable that points at it. */
export const SERVICES: Record<OptionalService, { label: string; variable: string }> = {
  autoscaling: { label: 'Auto Scaling', variable: 'AWS_ENDPOINT_URL_AUTO_SCALING' },
  ssm: { label: 'SSM', variable: 'AWS_ENDPOINT_URL_SSM' },
};

/**
 * Which optional services a run may call. On AWS (no EC2 endpoint configured) all of them. On an
 * EC2-compatible cloud only those given an endpoint of their own: without one the SDK would send
 * them to AWS, which is not that cloud (and must not see its credentials).
 */
export function planServices(endpoints: Endpoints): Record<OptionalService, Availability> {
  const plan = (service: OptionalService): Availability => {
    if (endpoints.ec2 === undefined || endpoints[service] !== undefined) return { available: true };
    const { label, variable } = SERVICES[service];
    return {
      available: false,
      reason: `no ${label} endpoint for the EC2 endpoint ${endpoints.ec2} (${variable} is not set)`,
    };
  };
  return { autoscaling: plan('autoscaling'), ssm: plan('ssm') };
}

/**
 * Which newer EC2 request parameters the API takes: true, false, or undefined while not known.
 * AWS takes them all; older EC2-compatible APIs refuse what they do not know.
 */
export interface Ec2Parameters {
  /** TagSpecification on create calls (else: CreateTags right after each create). */
  tagOnCreate?: boolean;
  /** MetadataOptions on RunInstances (IMDSv2 required). */
  metadataOptions?: boolean;
  /** DryRun (the parameter probe). */
  dryRun?: boolean;
  /** IPv6 ranges and rule descriptions in security group rules. */
  ipv6Rules?: boolean;
  /** Launch templates (DescribeLaunchTemplates and the rest). */
  launchTemplates?: boolean;
}

/** The cloud as this run knows it. */
export class CloudProfile {
  readonly ec2: Ec2Parameters;
  private readonly services: Record<OptionalService, Availability>;

  constructor(readonly endpoints: Endpoints = {}) {
    this.services = planServices(endpoints);
    // AWS's own EC2 API takes every parameter gitstrap sends.
    this.ec2 =
      endpoints.ec2 === undefined
        ? {
            tagOnCreate: true,
            metadataOptions: true,
            dryRun: true,
            ipv6Rules: true,
            launchTemplates: true,
          }
        : {};
  }

  /** Whether EC2 is an EC2-compatible cloud's (an endpoint other than AWS's). */
  get compatible(): boolean {
    return this.endpoints.ec2 !== undefined;
  }

  availability(service: OptionalService): Availability {
    return this.services[service];
  }

  isAvailable(service: OptionalService): boolean {
    return this.services[service].available;
  }

  /** Why a service cannot be used; undefined when it can. */
  reason(service: OptionalService): string | undefined {
    const a = this.services[service];
    return a.available ? undefined : a.reason;
  }

  /** Records that a call found the service missing: no answer, or no such action there. */
  markUnavailable(service: OptionalService, error: unknown): void {
    const { label } = SERVICES[service];
    const where = this.endpoints[service] ?? 'its AWS endpoint';
    const raw = awsCode(error) ?? 'no answer';
    // An answer the SDK could not read: another service's protocol (EC2's XML to an SSM request).
    const code = raw === 'SyntaxError' ? 'it answers in another protocol' : raw;
    this.services[service] = {
      available: false,
      reason: isUnreachable(error)
        ? `${label} does not answer at ${where} (${code})`
        : `${where} does not offer ${label} (${code})`,
    };
  }

  /** The one line saying fleets are left out of a command, when Auto Scaling cannot be used. */
  fleetsNote(what: 'listed' | 'checked'): string | undefined {
    const reason = this.reason('autoscaling');
    if (reason === undefined) return undefined;
    const { variable } = SERVICES.autoscaling;
    const fix = reason.includes(variable)
      ? ''
      : ` (${variable} names the cloud's Auto Scaling endpoint)`;
    return `fleets not ${what}: ${reason}${fix}`;
  }
}

/** Whether an error says the service is not there (no answer, or not this service). */
export function isServiceMissing(error: unknown): boolean {
  return isUnreachable(error) || isUnknownAction(error);
}

/**
 * Runs a call of an optional service, or returns `without()` when the service cannot be used here
 * or turns out missing (which is then recorded). Other failures are thrown.
 */
export async function withService<T>(
  env: Pick<FlowEnv, 'cloud'>,
  service: OptionalService,
  call: () => Promise<T>,
  without: () => T,
): Promise<T> {
  if (!env.cloud.isAvailable(service)) return without();
  try {
    return await call();
  } catch (error) {
    if (!isServiceMissing(error)) throw error;
    env.cloud.markUnavailable(service, error);
    return without();
  }
}

/** Throws, before anything is created, when a service a command needs cannot be used here. */
export function requireService(
  env: Pick<FlowEnv, 'cloud'>,
  service: OptionalService,
  message: (reason: string) => string,
  hint: string,
): void {
  const reason = env.cloud.reason(service);
  if (reason !== undefined) throw new GitstrapError(message(reason), { hint });
}
