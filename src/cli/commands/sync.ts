// `bootstrap sync`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'sync',
  usage: '  bootstrap sync',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap sync is not built yet');
  },
};
export default command;
