// `bootstrap kickstart`: not built yet (see its issue).
import { GitstrapError } from '../../lib/errors.js';
import type { Command } from '../command.js';

const command: Command = {
  name: 'kickstart',
  usage: '  bootstrap kickstart',
  options: {},
  async run() {
    throw new GitstrapError('bootstrap kickstart is not built yet');
  },
};
export default command;
