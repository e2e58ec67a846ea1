// `bootstrap reap`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'reap',
  usage: '  bootstrap reap',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap reap is not built yet');
  },
};
export default command;
