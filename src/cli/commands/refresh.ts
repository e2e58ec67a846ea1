// `bootstrap refresh DEPLOYMENT [--max-age 30d] [--json]`: replace a fleet's instances with fresh
// ones (on the OS family's current image), or only when one is older than --max-age.
import { AWS_USAGE, awsOptions, deploymentArg, engineOptionsFrom } from '../ec2-options.js';
import { parseDuration } from '../../lib/duration.js';
import { UsageError } from '../../lib/errors.js';
import { flagOpt, stringOpt, type Command } from '../command.js';

const command: Command = {
  name: 'refresh',
  usage: `  bootstrap refresh DEPLOYMENT [--max-age DURATION] [--region REGION] [--endpoint-url URL] [--json]
      --max-age DURATION    refresh only if an instance is older than this (e.g. 30d), for cron
${AWS_USAGE}`,
  options: { ...awsOptions, 'max-age': { type: 'string' } },
  positionals: [1, 1],
  async run(args, ctx) {
    const deployment = deploymentArg(args);
    const maxAgeText = stringOpt(args, 'max-age');
    const maxAgeMs = maxAgeText === undefined ? undefined : parseDuration(maxAgeText);
    if (maxAgeText !== undefined && maxAgeMs === undefined) {
      throw new UsageError(`--max-age ${maxAgeText}: expected a duration such as 12h, 7d or 30d`);
    }
    const { openEngine } = await import('../../ec2/aws-session.js');
    const { runRefresh } = await import('../../ec2/refresh.js');
    const { env, close } = await openEngine(ctx, engineOptionsFrom(args));
    try {
      const result = await runRefresh(env, deployment, maxAgeMs === undefined ? {} : { maxAgeMs });
      if (flagOpt(args, 'json')) ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else if (result.started)
        ctx.stdout.write(
          `${deployment}: refresh ${result.refreshId ?? ''} started: ${result.reason}\n`,
        );
      else ctx.stdout.write(`${deployment}: nothing to refresh: ${result.reason}\n`);
    } finally {
      close();
    }
  },
};
export default command;
