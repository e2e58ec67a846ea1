// The launcher commands as a black box: the built bin, the real SDK with static fake credentials,
// every request going to the recording endpoint on 127.0.0.1 (AWS_ENDPOINT_URL or --endpoint-url).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildIamPolicy } from '../../src/ec2/policy.js';
import { BIN, runCli } from '../helpers/cli.js';
import { startProcess, waitFor } from '../helpers/proc.js';
import { projectRoot } from '../helpers/tools.js';
import { writtenFile } from '../helpers/user-data.js';
import { startHealthServer } from './harness.js';
import { startWireEndpoint, type WireEndpoint } from './wire-endpoint.js';

function requireBuild(): void {
  if (!existsSync(path.join(projectRoot, 'dist/cli.js'))) {
    throw new Error('dist/cli.js is missing: run "npm run build" before the CLI tests');
  }
}

/** The environment of every run: fake static credentials, one region, nothing read from ~/.aws. */
function awsEnv(
  endpoint: WireEndpoint | undefined,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: 'AKIDCLITEST',
    AWS_SECRET_ACCESS_KEY: 'cli-test-secret',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: endpoint?.url,
    ...extra,
  };
}

/** The user-data text a RunInstances or CreateLaunchTemplate request carried. */
function userDataOf(base64: string): string {
  const raw = Buffer.from(base64, 'base64');
  return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
}

describe('bootstrap launch, ls, down, reap, refresh (the built bin, recording endpoint)', () => {
  test('launch a ttl deployment, see it in ls, end it with down', async (t) => {
    requireBuild();
    const health = await startHealthServer(t);
    const endpoint = await startWireEndpoint(t);
    const env = awsEnv(endpoint);
    const launch = await runCli(
      [
        'launch',
        '--recipe',
        'fundraiser-auction',
        '--set',
        `serve.port=${health.port}`,
        '--ttl',
        '2h',
      ],
      { env },
    );
    assert.equal(launch.code, 0, launch.stderr);
    assert.equal(launch.stdout, `http://127.0.0.1:${health.port}/\n`);
    assert.match(launch.stderr, /image: debian-12 is ami-0d12d12d12d12d12d/);
    assert.match(launch.stderr, /created security group sg-\w+ \(port \d+ open\)/);
    assert.match(launch.stderr, /is up; it ends itself at 20\d\d-/);
    assert.doesNotMatch(launch.stderr, /NodeVersionSupportWarning/);

    // At an endpoint other than AWS's, the first RunInstances is the parameter probe: a dry run
    // for an image no cloud has. Then the real one.
    const [probe, real] = endpoint.of('ec2:RunInstances');
    assert.equal(probe!.params.DryRun, 'true');
    assert.equal(probe!.params.ImageId, 'ami-00000000000000000');
    assert.equal(endpoint.of('ec2:RunInstances').length, 2);
    // The user-data of a ttl deployment schedules its own end, at the instant the tags say.
    const run = real!.params;
    assert.equal(run.InstanceInitiatedShutdownBehavior, 'terminate');
    assert.equal(run['MetadataOptions.HttpTokens'], 'required');
    const expiresTag = Object.keys(run).find((k) => run[k] === 'gitstrap:expires-at')!;
    const expiresAt = new Date(run[expiresTag.replace(/Key$/, 'Value')]!);
    const hours = (expiresAt.getTime() - Date.now()) / 3_600_000;
    assert.ok(hours > 1.9 && hours <= 2 + 1 / 3600, `expires in ${hours} h`);
    const userData = userDataOf(run.UserData!);
    assert.match(userData, /^#cloud-config/);
    const script = writtenFile(userData, '/usr/local/lib/gitstrap/first-boot.sh') ?? '';
    assert.ok(script.includes('gitstrap-expire.timer'), 'the expiry timer is written');
    assert.ok(script.includes('poweroff'), 'the expiry powers the machine off');
    assert.ok(
      userData.includes(`"--expires-at", "${expiresAt.getTime() / 1000}"`),
      'first boot gets the same expiry as the tags',
    );
    assert.match(userData, /ttl: 2h/, "the instance's recipe carries the --ttl");

    const ls = await runCli(['ls', '--json'], { env });
    assert.equal(ls.code, 0, ls.stderr);
    const [row] = JSON.parse(ls.stdout) as Array<Record<string, unknown>>;
    assert.equal(row!.recipe, 'fundraiser-auction');
    assert.equal(row!.state, 'running');
    assert.equal(row!.expiresAt, expiresAt.toISOString());
    const deployment = String(row!.deployment);
    const table = await runCli(['ls'], { env });
    assert.match(
      table.stdout,
      new RegExp(
        `^DEPLOYMENT +RECIPE +STATE +ADDRESS +AGE +LEFT\\n${deployment} +fundraiser-auction +running +127\\.0\\.0\\.1 +`,
      ),
    );

    const down = await runCli(['down', deployment], { env });
    assert.equal(down.code, 0, down.stderr);
    assert.match(
      down.stdout,
      new RegExp(
        `^${deployment} ended: instance i-\\w+, security group sg-\\w+ \\(gitstrap-${deployment}\\)\\n$`,
      ),
    );
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    const empty = await runCli(['ls'], { env });
    assert.equal(empty.stdout, 'no deployments\n');
  });

  test('a fleet: --fleet --no-wait --json, then refresh', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    const env = awsEnv(endpoint);
    const launch = await runCli(
      [
        'launch',
        '-r',
        'open-qa',
        '--fleet',
        '--count',
        '2',
        '--no-wait',
        '--json',
        '--os',
        'al2023',
      ],
      { env },
    );
    assert.equal(launch.code, 0, launch.stderr);
    const result = JSON.parse(launch.stdout) as {
      deployment: string;
      autoScalingGroup: string;
      waited: boolean;
    };
    assert.equal(result.autoScalingGroup, `gitstrap-${result.deployment}`);
    assert.equal(result.waited, false);
    const lt = endpoint.of('ec2:CreateLaunchTemplate')[0]!.params;
    assert.equal(lt['LaunchTemplateData.ImageId'], 'ami-0a1a2023a1a2023a1');
    assert.match(userDataOf(lt['LaunchTemplateData.UserData']!), /^#cloud-config/);
    assert.equal(endpoint.of('autoscaling:CreateAutoScalingGroup').length, 1);

    const refresh = await runCli(['refresh', result.deployment], { env });
    assert.equal(refresh.code, 0, refresh.stderr);
    assert.match(refresh.stdout, new RegExp(`^${result.deployment}: refresh refresh-1 started`));
    const young = await runCli(['refresh', result.deployment, '--max-age', '30d', '--json'], {
      env,
    });
    assert.equal(young.code, 0, young.stderr);
    assert.equal(JSON.parse(young.stdout).started, false);
  });

  test('reap ends what expired, even when the launcher that made it is long gone', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    const env = awsEnv(endpoint);
    const tags = (id: string, expires: string) => [
      { Key: 'gitstrap:deployment', Value: id },
      { Key: 'gitstrap:recipe', Value: 'open-qa' },
      { Key: 'gitstrap:expires-at', Value: expires },
    ];
    const old = endpoint.cloud.addInstance({
      Tags: tags('open-qa-20261001-0001', '2026-10-02T00:00:00.000Z'),
    });
    old.State.Name = 'running';
    endpoint.cloud.addSecurityGroup(
      'gitstrap-open-qa-20261001-0001',
      tags('open-qa-20261001-0001', '2026-10-02T00:00:00.000Z'),
    );
    const fresh = endpoint.cloud.addInstance({
      Tags: tags('open-qa-29991001-0002', '2999-10-02T00:00:00.000Z'),
    });
    fresh.State.Name = 'running';

    const dry = await runCli(['reap', '--dry-run'], { env });
    assert.equal(dry.stdout, 'expired: open-qa-20261001-0001\n');
    const reap = await runCli(['reap', '--json'], { env });
    assert.equal(reap.code, 0, reap.stderr);
    const result = JSON.parse(reap.stdout) as {
      ended: Array<{ deployment: string; destroyed: string[] }>;
    };
    assert.deepEqual(
      result.ended.map((e) => e.deployment),
      ['open-qa-20261001-0001'],
    );
    assert.equal(result.ended[0]!.destroyed.length, 2);
    assert.equal(old.State.Name, 'terminated');
    assert.equal(fresh.State.Name, 'running');
    assert.equal(endpoint.cloud.securityGroups.size, 0);
  });

  test('a failed launch exits 3, says what it destroyed, leaves nothing, no stack trace', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    // Twice: the first RunInstances is the parameter probe (a dry run; any answer but an unknown
    // parameter tells it the API took them all), the second is the launch.
    endpoint.failNext('ec2:RunInstances', 'InsufficientInstanceCapacity', {
      status: 500,
      times: 2,
    });
    const r = await runCli(['launch', '-r', 'open-qa', '--open-port'], { env: awsEnv(endpoint) });
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /error: launch of open-qa-\d{8}-[0-9a-f]{4} failed: ec2:RunInstances failed: InsufficientInstanceCapacity/,
    );
    assert.match(r.stderr, /\n {2}destroyed: security group sg-\w+\n/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
  });

  test('Ctrl-C while waiting for the service: exit 130, everything destroyed', async (t) => {
    requireBuild();
    const health = await startHealthServer(t, () => 503);
    const endpoint = await startWireEndpoint(t);
    const child = startProcess(
      t,
      process.execPath,
      [BIN, 'launch', '-r', 'open-qa', '--open-port', '--set', `serve.port=${health.port}`],
      { cwd: projectRoot, env: { ...process.env, ...awsEnv(endpoint) } as NodeJS.ProcessEnv },
    );
    await waitFor(
      async () => (health.hits.length > 0 ? true : undefined),
      'the first health probe',
      30_000,
    );
    child.child.kill('SIGINT');
    assert.equal(await child.exited, 130, child.output());
    assert.match(child.output(), /interrupted: destroying what this launch created/);
    assert.match(child.output(), /destroyed instance i-\w+/);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
  });

  test('--endpoint-url or AWS_ENDPOINT_URL_EC2 for EC2, AWS_ENDPOINT_URL_* for the others', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    const r = await runCli(['ls', '--endpoint-url', endpoint.url, '--region', 'eu-west-3'], {
      env: awsEnv(undefined, {
        AWS_REGION: undefined,
        AWS_ENDPOINT_URL_AUTO_SCALING: endpoint.url,
      }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no deployments\n');
    const ec2 = endpoint.requests.find((q) => q.service === 'ec2')!;
    assert.match(String(ec2.headers.authorization), /\/eu-west-3\/ec2\/aws4_request/);
    assert.ok(endpoint.requests.some((q) => q.service === 'autoscaling'));

    const before = endpoint.requests.length;
    const byEnv = await runCli(['ls'], {
      env: awsEnv(undefined, {
        AWS_ENDPOINT_URL_EC2: endpoint.url,
        AWS_ENDPOINT_URL_AUTO_SCALING: endpoint.url,
      }),
    });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.deepEqual([...new Set(endpoint.requests.slice(before).map((q) => q.service))].sort(), [
      'autoscaling',
      'ec2',
    ]);
  });

  test('clear errors: no region, bad flags, unknown deployments', async () => {
    requireBuild();
    const noRegion = await runCli(['ls'], { env: awsEnv(undefined, { AWS_REGION: undefined }) });
    assert.equal(noRegion.code, 1);
    assert.equal(
      noRegion.stderr,
      'error: no AWS region given\n  hint: pass --region REGION, set AWS_REGION, or set launch.region in the recipe\n',
    );
    const badOs = await runCli(['launch', '-r', 'open-qa', '--os', 'debian-11'], {
      env: awsEnv(undefined),
    });
    assert.equal(badOs.code, 2);
    assert.match(
      badOs.stderr,
      /^error: --os debian-11: expected one of debian-12, ubuntu-24.04, al2023\n {2}hint: did you mean --os debian-12\?\n$/,
    );
    const badId = await runCli(['down', 'i-0123'], { env: awsEnv(undefined) });
    assert.equal(badId.code, 2);
    const badMaxAge = await runCli(['refresh', 'xy-20261122-abcd', '--max-age', 'soon'], {
      env: awsEnv(undefined),
    });
    assert.equal(badMaxAge.code, 2);
    assert.match(badMaxAge.stderr, /--max-age soon: expected a duration/);
  });

  test('iam-policy prints the policy the call table makes', async () => {
    requireBuild();
    const r = await runCli(['iam-policy']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), buildIamPolicy());
    const bad = await runCli(['iam-policy', '--command', 'lunch']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean --command launch\?/);
  });
});

describe('the launcher commands stay light', () => {
  test('no command module reaches the AWS SDK through a static import', () => {
    const seen = new Set<string>();
    const reach = (file: string, chain: string[]): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, spec] of source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)) {
        if (spec!.startsWith('@aws-sdk/')) {
          assert.fail(
            `${[...chain, file].map((f) => path.relative(projectRoot, f)).join(' -> ')} imports ${spec}`,
          );
        }
        if (spec!.startsWith('.'))
          reach(path.resolve(path.dirname(file), spec!.replace(/\.js$/, '.ts')), [...chain, file]);
      }
    };
    for (const name of ['launch', 'ls', 'down', 'reap', 'refresh', 'iam-policy']) {
      reach(path.join(projectRoot, `src/cli/commands/${name}.ts`), []);
    }
    assert.ok(seen.size > 6);
    // The check itself can fail: the engine does import the SDK.
    assert.throws(
      () => reach(path.join(projectRoot, 'src/ec2/aws-session.ts'), []),
      /imports @aws-sdk\//,
    );
  });
});
