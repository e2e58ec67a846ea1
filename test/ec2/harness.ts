// The EC2 flows on SDK clients mocked with aws-sdk-client-mock, answering from a FakeCloud; a fake
// clock that sleeps advance; a real HTTP health server on 127.0.0.1 when a test needs one.
import * as autoscaling from '@aws-sdk/client-auto-scaling';
import * as ec2 from '@aws-sdk/client-ec2';
import * as ssm from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { createAwsApi, type AwsClients } from '../../src/ec2/aws-client.js';
import { listAwsCalls } from '../../src/ec2/calls.js';
import { CloudProfile } from '../../src/ec2/cloud.js';
import {
  DEFAULT_TIMING,
  fetchStatus,
  InterruptedError,
  type FlowEnv,
} from '../../src/ec2/flow-env.js';
import { parseRecipe } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import { FakeCloud } from './fake-cloud.js';

/** The time every mocked test starts at. */
export const START = new Date('2026-11-22T10:00:00.000Z');

const MODULES: Record<string, Record<string, unknown>> = { ec2, ssm, autoscaling };

/** Real SDK clients (static fake credentials, no network) whose send() answers from the cloud. */
export function mockedClients(cloud: FakeCloud): AwsClients {
  const config = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  };
  const clients: AwsClients = {
    ec2: new ec2.EC2Client(config),
    ssm: new ssm.SSMClient(config),
    autoscaling: new autoscaling.AutoScalingClient(config),
  };
  const mocks = {
    ec2: mockClient(clients.ec2),
    ssm: mockClient(clients.ssm),
    autoscaling: mockClient(clients.autoscaling),
  };
  for (const mock of Object.values(mocks)) {
    mock.callsFake((input: unknown) => {
      throw new Error(`a command outside the call table was sent: ${JSON.stringify(input)}`);
    });
  }
  for (const call of listAwsCalls()) {
    const Command = MODULES[call.service]![`${call.action}Command`] as new (
      input: object,
    ) => ec2.RunInstancesCommand;
    (mocks[call.service] as ReturnType<typeof mockClient>)
      .on(Command as never)
      .callsFake((input: Record<string, unknown>) => cloud.handle(call.name, input));
  }
  return clients;
}

export interface MockedRun {
  cloud: FakeCloud;
  env: FlowEnv;
  progress: string[];
  controller: AbortController;
  clock: { now: Date };
}

/** A FlowEnv on mocked clients and a fake clock; `sleep` advances the clock. */
export function mockedEnv(cloud?: FakeCloud, overrides: Partial<FlowEnv> = {}): MockedRun {
  const clock = { now: new Date(START) };
  const theCloud = cloud ?? new FakeCloud({ now: () => new Date(clock.now) });
  return { cloud: theCloud, ...clockedEnv(mockedClients(theCloud), clock, overrides) };
}

/** A FlowEnv on `clients` whose time is `clock`: sleeps only advance it. */
function clockedEnv(
  clients: AwsClients,
  clock: { now: Date },
  overrides: Partial<FlowEnv>,
): Omit<MockedRun, 'cloud'> {
  const controller = new AbortController();
  const progress: string[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw new InterruptedError(signal.reason);
    clock.now = new Date(clock.now.getTime() + ms);
    await new Promise((r) => setImmediate(r));
  };
  const env: FlowEnv = {
    api: createAwsApi(clients, { sleep, random: () => 0.5 }),
    // AWS itself unless the test says otherwise.
    cloud: new CloudProfile(),
    now: () => new Date(clock.now),
    sleep,
    getStatus: fetchStatus,
    progress: (line) => progress.push(line),
    signal: controller.signal,
    timing: { ...DEFAULT_TIMING },
    awsCliOptions: '--region us-east-1',
    ...overrides,
  };
  return { env, progress, controller, clock };
}

/** A recipe from YAML text (the shipped schema, defaults filled in). */
export function recipeFrom(text: string, sets: string[] = []): Recipe {
  const { recipe, problems } = parseRecipe(text, 'test.yaml', sets);
  if (!recipe) throw new Error(JSON.stringify(problems));
  return recipe;
}

/** A small valid recipe for launch tests. */
export function testRecipe(port: number, extra = ''): Recipe {
  return recipeFrom(
    `name: auction
service:
  repo: https://example.org/auction.git
  runtime: static
serve:
  port: ${port}
${extra}`,
  );
}

/** A real HTTP server on 127.0.0.1 answering /_gitstrap/healthz with `status()`; closed after t. */
export async function startHealthServer(
  t: Pick<TestContext, 'after'>,
  status: () => number = () => 200,
): Promise<{ port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.statusCode = req.url === '/_gitstrap/healthz' ? status() : 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hits };
}

/** A FlowEnv whose real SDK clients send to `url` (the wire endpoint); sleeps only advance a clock. */
export function wireEnv(url: string, overrides: Partial<FlowEnv> = {}): Omit<MockedRun, 'cloud'> {
  const config = {
    region: 'us-east-1',
    endpoint: url,
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDWIRETEST', secretAccessKey: 'wire-secret' },
  };
  const clients: AwsClients = {
    ec2: new ec2.EC2Client(config),
    ssm: new ssm.SSMClient(config),
    autoscaling: new autoscaling.AutoScalingClient(config),
  };
  return clockedEnv(clients, { now: new Date() }, overrides);
}
