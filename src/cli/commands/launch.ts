// `bootstrap launch --recipe X [...]`: launch EC2 instance(s) (or a fleet) whose user-data turns them
// into the service, wait until it answers, print its URL. A failed or interrupted launch leaves nothing;
// a second Ctrl-C stops its cleanup, and the exit still prints what is left and how to remove it.
import { AWS_USAGE, awsOptions, engineOptionsFrom } from '../ec2-options.js';
import { parseDuration } from '../../lib/duration.js';
import { UsageError } from '../../lib/errors.js';
import {
  flagOpt,
  RECIPE_USAGE,
  recipeOptions,
  stringOpt,
  type Command,
  type ParsedArgs,
} from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

const command: Command = {
  name: 'launch',
  usage: `  bootstrap launch --recipe NAME|PATH [--set KEY=VALUE ...] [--region REGION]
                   [--instance-type TYPE] [--image AMI | --os debian-12|ubuntu-24.04|al2023]
                   [--key-name KEY] [--subnet SUBNET] [--instance-profile PROFILE] [--ttl 30d]
                   [--count N | --fleet --count N] [--open-port] [--allow-imdsv1] [--no-wait]
                   [--json]
${RECIPE_USAGE}
      --instance-type TYPE  EC2 instance type (default: launch.instance_type, t3.micro)
      --image AMI           boot this AMI
      --os FAMILY           boot the current public image of debian-12, ubuntu-24.04 or al2023
      --key-name KEY        an EC2 key pair for SSH
      --subnet SUBNET       launch into this subnet (default: the default VPC)
      --instance-profile P  an IAM instance profile (needed to read SSM parameters at boot)
      --ttl DURATION        end the deployment after this long (e.g. 30d; default: the recipe's
                            ttl); "none" for no expiry
      --count N             launch N instances in one call (1-50)
      --fleet               an Auto Scaling group of --count instances from a launch template
      --open-port           create a security group that opens serve.port to everyone
      --allow-imdsv1        launch even where the EC2 API cannot require IMDSv2 (older
                            EC2-compatible clouds), with a warning; where it can, it is required
      --no-wait             return once launched, without waiting for running and healthy
      --wait-timeout D      how long to wait for the service to answer (default 20m)
${AWS_USAGE}`,
  options: {
    ...recipeOptions,
    ...awsOptions,
    'instance-type': { type: 'string' },
    image: { type: 'string' },
    os: { type: 'string' },
    'key-name': { type: 'string' },
    subnet: { type: 'string' },
    'instance-profile': { type: 'string' },
    ttl: { type: 'string' },
    count: { type: 'string' },
    fleet: { type: 'boolean' },
    'open-port': { type: 'boolean' },
    'allow-imdsv1': { type: 'boolean' },
    'no-wait': { type: 'boolean' },
    'wait-timeout': { type: 'string' },
  },
  async run(args, ctx) {
    const { recipe } = recipeFromArgs(args, ctx);
    const waitTimeoutMs = waitTimeout(args);
    const { planLaunch } = await import('../../ec2/plan.js');
    const { cryptoRandom, openEngine } = await import('../../ec2/aws-session.js');
    const { LaunchResources, runLaunch } = await import('../../ec2/launch.js');
    const { renderLaunchUserData } = await import('../../ec2/launch-user-data.js');

    const plan = planLaunch(recipe, launchFlags(args), { now: new Date(), random: cryptoRandom });
    const userData = renderLaunchUserData(recipe, plan, VERSION);
    const { env, close } = await openEngine(ctx, engineOptionsFrom(args, plan.region));
    if (waitTimeoutMs !== undefined) env.timing = { ...env.timing, healthTimeoutMs: waitTimeoutMs };
    const resources = new LaunchResources(plan.deployment);
    // The process may exit before the launch has cleaned up (a second Ctrl-C exits at once):
    // whatever ends it then, the person learns what is left and how to remove it.
    const onExit = () =>
      ctx.stderr.write(
        ['stopped before the cleanup finished', ...resources.leftBehind()].join('\n') + '\n',
      );
    process.once('exit', onExit);
    try {
      const noWait = flagOpt(args, 'no-wait');
      const allowImdsV1 = flagOpt(args, 'allow-imdsv1');
      const result = await runLaunch(env, plan, userData.body, {
        noWait,
        resources,
        allowImdsV1,
      }).finally(() => process.off('exit', onExit));
      if (flagOpt(args, 'json')) {
        ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      const ends = result.expiresAt ? `; it ends itself at ${result.expiresAt}` : '';
      // Said again last, where a person reads: what the deployment does without.
      const warnAgain = () => {
        for (const warning of result.warnings ?? []) ctx.stderr.write(`warning: ${warning}\n`);
      };
      if (noWait) {
        ctx.stderr.write(
          `launched ${plan.deployment} without waiting${ends}; "bootstrap ls" shows its state\n`,
        );
        warnAgain();
        ctx.stdout.write(`${plan.deployment}\n`);
        return;
      }
      ctx.stderr.write(
        `${plan.deployment} is up${ends}; "bootstrap down ${plan.deployment}" ends it now\n`,
      );
      warnAgain();
      for (const i of result.instances) if (i.url) ctx.stdout.write(`${i.url}\n`);
    } finally {
      close();
    }
  },
};
export default command;

function launchFlags(args: ParsedArgs) {
  const flags: Record<string, string | boolean> = {};
  const strings = {
    region: 'region',
    instanceType: 'instance-type',
    image: 'image',
    os: 'os',
    keyName: 'key-name',
    subnet: 'subnet',
    instanceProfile: 'instance-profile',
    ttl: 'ttl',
    count: 'count',
  } as const;
  for (const [key, flag] of Object.entries(strings)) {
    const value = stringOpt(args, flag);
    if (value !== undefined) flags[key] = value;
  }
  if (flagOpt(args, 'fleet')) flags.fleet = true;
  if (flagOpt(args, 'open-port')) flags.openPort = true;
  return flags;
}

function waitTimeout(args: ParsedArgs): number | undefined {
  const text = stringOpt(args, 'wait-timeout');
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(`--wait-timeout ${text}: expected a duration such as 10m or 1h`);
  }
  return ms;
}
