// Wires the EC2 flows to the real world for the commands: SDK clients (standard credential chain,
// --region, --endpoint-url / AWS_ENDPOINT_URL_*), the cloud they reach (AWS, or an EC2-compatible
// cloud and which of its services to use), real timers, fetch, stderr progress, Ctrl-C.
import { randomInt } from 'node:crypto';
import { GitstrapError } from '../lib/errors.js';
import {
  configuredEndpoints,
  createAwsApi,
  createAwsClients,
  destroyAwsClients,
} from './aws-client.js';
import { CloudProfile } from './cloud.js';
import { DEFAULT_TIMING, fetchStatus, realSleep, type FlowEnv } from './flow-env.js';

/** What a session needs of the command that opens it: where progress goes, verbosity, Ctrl-C. */
export interface SessionContext {
  stderr: NodeJS.WritableStream;
  verbose: boolean;
  signal: AbortSignal;
}

export interface EngineOptions {
  region?: string;
  endpointUrl?: string;
}

/** A FlowEnv on real clients; `close` releases their sockets. */
export async function openEngine(
  ctx: SessionContext,
  options: EngineOptions,
): Promise<{ env: FlowEnv; region: string; close: () => void }> {
  if (options.endpointUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(options.endpointUrl)) {
    throw new GitstrapError(
      `--endpoint-url ${options.endpointUrl}: expected an http:// or https:// URL`,
      { hint: 'e.g. --endpoint-url https://ec2.example.org:8773/services/compute' },
    );
  }
  // The SDK warns on every run under Node < 22 about its own future releases; the launcher supports
  // Node 20, and a person cannot act on that warning. An explicit setting of the variable wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const clients = createAwsClients(options);
  let region: string;
  try {
    region = await clients.ec2.config.region();
  } catch {
    destroyAwsClients(clients);
    throw new GitstrapError('no AWS region given', {
      hint: 'pass --region REGION, set AWS_REGION, or set launch.region in the recipe',
    });
  }
  const cloud = new CloudProfile(await configuredEndpoints(clients));
  const progress = (line: string) => ctx.stderr.write(`${line}\n`);
  const api = createAwsApi(clients, {
    sleep: (ms) => realSleep(ms),
    random: Math.random,
    onRetry: ({ delayMs, code }) => progress(`  AWS said ${code}; retrying in ${delayMs} ms`),
    ...(ctx.verbose ? { onCall: (name: string) => progress(`  -> ${name}`) } : {}),
  });
  const cliOptions = [`--region ${region}`];
  if (options.endpointUrl) cliOptions.push(`--endpoint-url ${options.endpointUrl}`);
  const env: FlowEnv = {
    api,
    cloud,
    now: () => new Date(),
    sleep: realSleep,
    getStatus: fetchStatus,
    progress,
    signal: ctx.signal,
    timing: DEFAULT_TIMING,
    awsCliOptions: cliOptions.join(' '),
  };
  return { env, region, close: () => destroyAwsClients(clients) };
}

/** A uniform random number in [0, 1) from the crypto source (deployment ids). */
export function cryptoRandom(): number {
  return randomInt(0, 0x10000) / 0x10000;
}
