// `bootstrap down DEPLOYMENT [--json]`: terminate a deployment and delete everything it created.
import { AWS_USAGE, awsOptions, deploymentArg, engineOptionsFrom } from '../ec2-options.js';
import { ExitCode } from '../../lib/errors.js';
import { flagOpt, type Command } from '../command.js';

const command: Command = {
  name: 'down',
  usage: `  bootstrap down DEPLOYMENT [--region REGION] [--endpoint-url URL] [--json]
${AWS_USAGE}`,
  options: { ...awsOptions },
  positionals: [1, 1],
  async run(args, ctx) {
    const deployment = deploymentArg(args);
    const { openEngine } = await import('../../ec2/aws-session.js');
    const { leftBehindError, runDown } = await import('../../ec2/down.js');
    const { env, close } = await openEngine(ctx, engineOptionsFrom(args));
    try {
      const result = await runDown(env, deployment);
      const note = env.cloud.fleetsNote('checked');
      if (note) ctx.stderr.write(`${note}\n`);
      if (flagOpt(args, 'json')) {
        ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return result.left.length ? ExitCode.failed : ExitCode.ok;
      }
      const failure = leftBehindError([result]);
      if (failure) throw failure;
      ctx.stdout.write(
        `${deployment} ended: ${result.destroyed.length ? result.destroyed.join(', ') : 'nothing was left'}\n`,
      );
    } finally {
      close();
    }
  },
};
export default command;
