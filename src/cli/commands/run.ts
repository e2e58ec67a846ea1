// `bootstrap run`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'run',
  usage: '  bootstrap run',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap run is not built yet');
  },
};
export default command;
