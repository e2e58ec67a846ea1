// `bootstrap ls`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'ls',
  usage: '  bootstrap ls',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap ls is not built yet');
  },
};
export default command;
