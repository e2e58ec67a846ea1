// `bootstrap packages`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'packages',
  usage: '  bootstrap packages',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap packages is not built yet');
  },
};
export default command;
