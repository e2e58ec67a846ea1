// `bootstrap refresh`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'refresh',
  usage: '  bootstrap refresh',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap refresh is not built yet');
  },
};
export default command;
