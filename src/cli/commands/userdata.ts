// `bootstrap userdata`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'userdata',
  usage: '  bootstrap userdata',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap userdata is not built yet');
  },
};
export default command;
