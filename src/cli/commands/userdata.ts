// `bootstrap userdata --recipe X [--set ...] [--format cloud-config|mime] [--gzip] [-o FILE]`:
// prints the cloud-init user-data that turns a fresh instance into the recipe's service.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError, UsageError } from '../../lib/errors.js';
import { suggest } from '../../lib/suggest.js';
import { EC2_USER_DATA_LIMIT, renderUserData } from '../../userdata/index.js';
import { planInstallerBootParams } from '../../installer/installer-mode.js';
import type { UserDataFormat } from '../../userdata/render.js';
import {
  flagOpt,
  RECIPE_USAGE,
  recipeOptions,
  stringOpt,
  type Command,
  type CommandContext,
} from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

const FORMATS: readonly UserDataFormat[] = ['cloud-config', 'mime'];

const command: Command = {
  name: 'userdata',
  usage: `  bootstrap userdata --recipe NAME|PATH [--set KEY=VALUE ...] [--format cloud-config|mime] [--gzip] [-o FILE]
${RECIPE_USAGE}
      --format FORMAT       cloud-config (default), or mime: multipart with the first boot as a shell-script part
      --gzip                gzip it (done anyway when it is over EC2's ${EC2_USER_DATA_LIMIT.toLocaleString('en-US')} bytes)
  -o, --output FILE         write it to FILE instead of stdout
      --installer           installer mode: a "# bootparams=" line for the node controller's hook
      --ks URL              with --installer: the kickstart (inst.ks=); default installer.ks
      --bootparams "..."    with --installer: extra kernel parameters; default installer.bootparams`,
  options: {
    ...recipeOptions,
    format: { type: 'string' },
    gzip: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
    installer: { type: 'boolean' },
    ks: { type: 'string' },
    bootparams: { type: 'string' },
  },
  async run(args, ctx) {
    const format = parseFormat(stringOpt(args, 'format'));
    const output = stringOpt(args, 'output');
    const { recipe } = recipeFromArgs(args, ctx);
    const boot = planInstallerBootParams(recipe, {
      installer: flagOpt(args, 'installer'),
      ks: stringOpt(args, 'ks'),
      bootparams: stringOpt(args, 'bootparams'),
    });
    for (const warning of boot?.warnings ?? []) ctx.stderr.write(`warning: ${warning}\n`);
    const rendered = renderUserData(recipe, {
      version: VERSION,
      format,
      gzip: flagOpt(args, 'gzip') ? true : 'auto',
      ...(boot ? { bootparams: boot.canonical } : {}),
    });
    if (rendered.gzipped && output === undefined && isTerminal(ctx.stdout)) {
      throw new GitstrapError('the user-data is gzipped: not printing binary data to a terminal', {
        hint: 'write it to a file with -o FILE (or pipe it)',
      });
    }
    ctx.stderr.write(describeSize(rendered) + '\n');
    if (output === undefined) {
      ctx.stdout.write(rendered.body);
    } else {
      writeFileAtomically(path.resolve(ctx.cwd, output), rendered.body);
      ctx.stderr.write(`wrote ${output}\n`);
    }
  },
};
export default command;

function parseFormat(value: string | undefined): UserDataFormat {
  if (value === undefined) return 'cloud-config';
  if ((FORMATS as readonly string[]).includes(value)) return value as UserDataFormat;
  const close = suggest(value, FORMATS);
  throw new UsageError(
    `--format must be ${FORMATS.join(' or ')}, got "${value}"`,
    close ? `did you mean --format ${close}?` : undefined,
  );
}

/** "user-data: 14,743 bytes (5,131 gzipped); cloud-config, sent as is: fits EC2's 16,384 bytes" */
function describeSize(r: ReturnType<typeof renderUserData>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const sent = r.gzipped ? `sent gzipped (${n(r.bytes)} bytes)` : 'sent as is';
  return `user-data: ${n(r.rawBytes)} bytes (${n(r.gzippedBytes)} gzipped); ${r.format}, ${sent}: fits EC2's ${n(EC2_USER_DATA_LIMIT)} bytes`;
}

function isTerminal(stream: CommandContext['stdout']): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** Writes FILE whole or not at all: a temporary file beside it, renamed over it. */
function writeFileAtomically(file: string, data: Buffer): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, data, { mode: 0o644 });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new GitstrapError(
      `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { hint: 'check that its folder exists and is writable' },
    );
  }
}
