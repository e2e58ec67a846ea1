// `bootstrap reap [--dry-run] [--json]`: end every deployment in reach whose expiry has passed.
import { AWS_USAGE, awsOptions, engineOptionsFrom } from '../ec2-options.js';
import { ExitCode, GitstrapError } from '../../lib/errors.js';
import { flagOpt, type Command } from '../command.js';

const command: Command = {
  name: 'reap',
  usage: `  bootstrap reap [--dry-run] [--region REGION] [--endpoint-url URL] [--json]
      --dry-run             only list the expired deployments
${AWS_USAGE}`,
  options: { ...awsOptions, 'dry-run': { type: 'boolean' } },
  async run(args, ctx) {
    const { openEngine } = await import('../../ec2/aws-session.js');
    const { runReap } = await import('../../ec2/reap.js');
    const { leftBehindError } = await import('../../ec2/down.js');
    const { env, close } = await openEngine(ctx, engineOptionsFrom(args));
    try {
      const result = await runReap(env, { dryRun: flagOpt(args, 'dry-run') });
      const note = env.cloud.fleetsNote('checked');
      if (note) ctx.stderr.write(`${note}\n`);
      const failure = leftBehindError(result.ended) ?? skippedError(result.skipped);
      if (flagOpt(args, 'json')) {
        ctx.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return failure ? ExitCode.failed : ExitCode.ok;
      }
      if (failure) throw failure;
      if (!result.expired.length) ctx.stdout.write('no expired deployments\n');
      else if (result.dryRun) ctx.stdout.write(`expired: ${result.expired.join(' ')}\n`);
      else
        for (const r of result.ended)
          ctx.stdout.write(
            `${r.deployment} ended: ${r.destroyed.join(', ') || 'nothing was left'}\n`,
          );
    } finally {
      close();
    }
  },
};
export default command;

/** The error of a reap that had to leave expired fleets running (Auto Scaling unavailable). */
function skippedError(skipped: ReadonlyArray<{ deployment: string; reason: string }>) {
  if (!skipped.length) return undefined;
  return new GitstrapError(
    `not ended: ${skipped.map((s) => `${s.deployment} (${s.reason})`).join(', ')}`,
    {
      exitCode: ExitCode.failed,
      hint: 'set AWS_ENDPOINT_URL_AUTO_SCALING to the cloud\'s Auto Scaling endpoint and run "bootstrap reap" again',
    },
  );
}
