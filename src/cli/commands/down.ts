// `bootstrap down`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'down',
  usage: '  bootstrap down',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap down is not built yet');
  },
};
export default command;
