// `bootstrap iam-policy`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'iam-policy',
  usage: '  bootstrap iam-policy',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap iam-policy is not built yet');
  },
};
export default command;
