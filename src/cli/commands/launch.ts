// `bootstrap launch`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'launch',
  usage: '  bootstrap launch',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap launch is not built yet');
  },
};
export default command;
