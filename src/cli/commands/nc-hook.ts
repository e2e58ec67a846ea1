// `bootstrap nc-hook EVENT EUCA_HOME [INSTANCE_PATH]`: the Eucalyptus node-controller hook that puts
// an installer instance's user-data boot parameters on its kernel command line (libvirt.xml).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GitstrapError } from '../../lib/errors.js';
import { parseAllowList, PRE_BOOT_EVENT, runNcHook, ALLOW_FILE } from '../../installer/nc-hook.js';
import { listOpt, stringOpt, type Command } from '../command.js';

const MESSAGES = {
  'ignored-event': undefined,
  'no-user-data': 'no user-data; libvirt.xml left as it is',
  'no-bootparams': 'no bootparams= line in the user-data; libvirt.xml left as it is',
  'already-applied': 'the boot parameters are already on the kernel command line',
  rewritten: 'kernel command line set',
  restored: 'no boot parameters in the user-data; libvirt.xml restored from libvirt.xml.orig',
} as const;

const command: Command = {
  name: 'nc-hook',
  usage: `  bootstrap nc-hook EVENT EUCA_HOME [INSTANCE_PATH] [--allow NAME,...] [--allow-file FILE]
      EVENT                 the node controller's event; only ${PRE_BOOT_EVENT} does anything
      --allow NAME,...      accept only these parameter names ("prefix*" allowed; repeatable)
      --allow-file FILE     the same, one name per line (default: EUCA_HOME/${ALLOW_FILE}, if present)
  Installed as userdata/nc-hooks/gitstrap-bootparams in /etc/eucalyptus/nc-hooks/.`,
  options: {
    allow: { type: 'string', multiple: true },
    'allow-file': { type: 'string' },
  },
  positionals: [1, 3],
  async run(args, ctx) {
    const [event = '', eucaHome, instancePath] = args.positionals;
    const allow = allowFrom(listOpt(args, 'allow'), stringOpt(args, 'allow-file'), ctx.cwd);
    const plan = runNcHook({
      event,
      ...(eucaHome ? { eucaHome } : {}),
      ...(instancePath ? { instancePath: path.resolve(ctx.cwd, instancePath) } : {}),
      ...(allow ? { allow } : {}),
    });
    for (const warning of plan.warnings) ctx.stderr.write(`warning: ${warning}\n`);
    const message = MESSAGES[plan.action];
    if (message) {
      const detail = plan.cmdline !== undefined ? `: ${plan.cmdline}` : '';
      ctx.stdout.write(`gitstrap nc-hook: ${instancePath}: ${message}${detail}\n`);
    }
  },
};
export default command;

function allowFrom(names: string[], file: string | undefined, cwd: string): string[] | undefined {
  const list = names
    .flatMap((n) => n.split(','))
    .map((n) => n.trim())
    .filter(Boolean);
  if (file !== undefined) {
    try {
      list.push(...parseAllowList(readFileSync(path.resolve(cwd, file), 'utf8')));
    } catch (error) {
      throw new GitstrapError(
        `cannot read --allow-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  }
  return names.length || file !== undefined ? list : undefined;
}
