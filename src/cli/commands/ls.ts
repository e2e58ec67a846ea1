// `bootstrap ls [--json]`: the deployments in reach, found by tag: recipe, state, address, age, time left.
// Where Auto Scaling cannot be used, fleets are left out and one line on stderr says so.
import { AWS_USAGE, awsOptions, engineOptionsFrom } from '../ec2-options.js';
import { flagOpt, type Command } from '../command.js';

const command: Command = {
  name: 'ls',
  usage: `  bootstrap ls [--region REGION] [--endpoint-url URL] [--json]
${AWS_USAGE}`,
  options: { ...awsOptions },
  async run(args, ctx) {
    const { openEngine } = await import('../../ec2/aws-session.js');
    const { takeInventory } = await import('../../ec2/inventory.js');
    const { formatDeploymentTable, sortRows, summarizeDeployment } =
      await import('../../ec2/deployment-table.js');
    const { env, close } = await openEngine(ctx, engineOptionsFrom(args));
    try {
      const now = env.now();
      const rows = sortRows(
        [...(await takeInventory(env)).values()].map((d) => summarizeDeployment(d, now)),
      );
      const note = env.cloud.fleetsNote('listed');
      if (note) ctx.stderr.write(`${note}\n`);
      ctx.stdout.write(
        flagOpt(args, 'json') ? JSON.stringify(rows, null, 2) + '\n' : formatDeploymentTable(rows),
      );
    } finally {
      close();
    }
  },
};
export default command;
