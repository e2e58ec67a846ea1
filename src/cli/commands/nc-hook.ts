// `bootstrap nc-hook`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'nc-hook',
  usage: '  bootstrap nc-hook',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap nc-hook is not built yet');
  },
};
export default command;
