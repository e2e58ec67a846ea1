// `bootstrap iam-policy [--command NAME ...]`: the least-privilege IAM policy for the launcher's AWS
// calls, derived from the one table of calls the code makes (src/ec2/calls.ts).
import { AWS_COMMANDS, type AwsCommand } from '../../ec2/calls.js';
import { buildIamPolicy } from '../../ec2/policy.js';
import { UsageError } from '../../lib/errors.js';
import { suggest } from '../../lib/suggest.js';
import { listOpt, type Command } from '../command.js';

const command: Command = {
  name: 'iam-policy',
  usage: `  bootstrap iam-policy [--command ${AWS_COMMANDS.join('|')} ...]
      --command NAME        only what these commands need (repeatable; default: all of them)`,
  options: { command: { type: 'string', multiple: true } },
  async run(args, ctx) {
    const names = listOpt(args, 'command');
    for (const name of names) {
      if (!(AWS_COMMANDS as readonly string[]).includes(name)) {
        const close = suggest(name, AWS_COMMANDS);
        throw new UsageError(
          `--command ${name}: expected one of ${AWS_COMMANDS.join(', ')}`,
          close ? `did you mean --command ${close}?` : undefined,
        );
      }
    }
    const policy = buildIamPolicy(names.length ? (names as AwsCommand[]) : undefined);
    ctx.stdout.write(JSON.stringify(policy, null, 2) + '\n');
  },
};
export default command;
