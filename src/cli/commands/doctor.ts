// `bootstrap doctor [--endpoint-url URL] [--json]`: what the endpoint offers (EC2 and its newer
// parameters, launch templates, Auto Scaling, SSM) and what gitstrap will do there. Read-only calls
// and a DryRun probe; nothing is created.
import { AWS_USAGE, awsOptions, engineOptionsFrom } from '../ec2-options.js';
import { ExitCode } from '../../lib/errors.js';
import { flagOpt, type Command } from '../command.js';

const command: Command = {
  name: 'doctor',
  usage: `  bootstrap doctor [--region REGION] [--endpoint-url URL] [--json]
${AWS_USAGE}`,
  options: { ...awsOptions },
  async run(args, ctx) {
    const { openEngine } = await import('../../ec2/aws-session.js');
    const { formatDoctorReport, runDoctor } = await import('../../ec2/doctor.js');
    const { env, region, close } = await openEngine(ctx, engineOptionsFrom(args));
    try {
      const report = await runDoctor(env, region);
      ctx.stdout.write(
        flagOpt(args, 'json') ? JSON.stringify(report, null, 2) + '\n' : formatDoctorReport(report),
      );
      return report.ec2.status === 'yes' ? ExitCode.ok : ExitCode.failed;
    } finally {
      close();
    }
  },
};
export default command;
