// `bootstrap bundle [-o DIR] [--url URL]`: writes the agent bundle (one file, Node 18.19+) with its
// sha256, and prints the agent.source that points instances at it, for hosting it yourself.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../../installer/atomic-write.js';
import { GitstrapError, UsageError } from '../../lib/errors.js';
import { packageRoot } from '../../lib/package-root.js';
import { planBundle, readAgentBundle } from '../../release/agent-bundle.js';
import { stringOpt, type Command } from '../command.js';

const command: Command = {
  name: 'bundle',
  usage: `  bootstrap bundle [-o DIR] [--url URL]
  -o, --output DIR          write gitstrap-agent-VERSION.cjs and its .sha256 here (default: .)
      --url URL             where you will host it: printed in the agent.source to paste
  Host the file on any HTTPS server the instances reach (an S3 or Walrus bucket, a web server, a
  release on your git host); first boot downloads it and refuses it unless the sha256 matches.`,
  options: {
    output: { type: 'string', short: 'o' },
    url: { type: 'string' },
  },
  async run(args, ctx) {
    const url = stringOpt(args, 'url');
    if (url !== undefined && !/^https?:\/\/[^\s/'"\\]+\/\S*$/.test(url)) {
      throw new UsageError(
        `--url ${url}: expected the http:// or https:// URL the file will have`,
        'e.g. --url https://my-bucket.s3.amazonaws.com/gitstrap/gitstrap-agent-VERSION.cjs',
      );
    }
    const bundle = readAgentBundle(packageRoot());
    const plan = planBundle(bundle, VERSION, url);
    const dir = path.resolve(ctx.cwd, stringOpt(args, 'output') ?? '.');
    try {
      mkdirSync(dir, { recursive: true });
      writeAtomic(path.join(dir, plan.name), bundle, 0o644);
      const sums = Buffer.from(`${plan.sha256}  ${plan.name}\n`);
      writeAtomic(path.join(dir, `${plan.name}.sha256`), sums, 0o644);
    } catch (error) {
      throw new GitstrapError(
        `cannot write the bundle into ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { hint: 'choose a folder you can write to with -o DIR' },
      );
    }
    const shown = path.relative(ctx.cwd, path.join(dir, plan.name)) || plan.name;
    ctx.stderr.write(
      `wrote ${shown} (${(plan.bytes / 1e6).toFixed(2)} MB) and ${shown}.sha256\n` +
        (url ? '' : 'upload it, then replace the URL below with where it is served\n') +
        '\n',
    );
    ctx.stdout.write(
      `# in the recipe:\n${plan.recipeSnippet}\n# or on the command line of bootstrap userdata / launch:\n${plan.setArgs.join(' ')}\n`,
    );
  },
};
export default command;
