// `bootstrap kickstart --recipe X [--set ...] [--disk DEV] [-o FILE]`: writes an Anaconda kickstart
// whose installed system ends as the same service as the cloud-init path.
import path from 'node:path';
import { writeAtomic } from '../../installer/atomic-write.js';
import { renderKickstart } from '../../installer/kickstart.js';
import { RECIPE_USAGE, recipeOptions, stringOpt, type Command } from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

const command: Command = {
  name: 'kickstart',
  usage: `  bootstrap kickstart --recipe NAME|PATH [--set KEY=VALUE ...] [--disk DEV] [-o FILE]
${RECIPE_USAGE}
      --disk DEV            install onto this disk only (e.g. vdb); default: every disk, erased
  -o, --output FILE         write it to FILE instead of stdout
  Serve the file over http(s) and boot the installer with: bootstrap userdata --installer --ks URL`,
  options: {
    ...recipeOptions,
    disk: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(args, ctx) {
    const { recipe } = recipeFromArgs(args, ctx);
    const disk = stringOpt(args, 'disk');
    const text = renderKickstart(recipe, { version: VERSION, ...(disk ? { disk } : {}) });
    const output = stringOpt(args, 'output');
    if (output === undefined) {
      ctx.stdout.write(text);
      return;
    }
    writeAtomic(path.resolve(ctx.cwd, output), Buffer.from(text), 0o644);
    ctx.stderr.write(`wrote ${output}: the kickstart for ${recipe.name}\n`);
  },
};
export default command;
