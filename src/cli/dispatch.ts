// The one place that turns argv into a command run, and any error into a message and an exit code.
import { parseArgs } from 'node:util';
import { ExitCode, exitCodeOf, formatError, UsageError } from '../lib/errors.js';
import { suggest } from '../lib/suggest.js';
import type { Command, CommandContext, OptionSpec, ParsedArgs } from './command.js';

/** A command table: name, one-line summary, and a loader, so a command's code loads only when it runs. */
export type CommandTable = Record<string, { summary: string; load: () => Promise<Command> }>;

export interface DispatchOptions {
  program: string;
  commands: CommandTable;
  /** The command used when argv starts with a flag (e.g. `bootstrap --recipe X` runs the agent). */
  defaultCommand?: string;
  /** Lines shown under the command list in --help. */
  epilog?: string;
  version: string;
}

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean', short: 'v' },
} as const satisfies OptionSpec;

/** Runs one command line to completion and returns the exit code; never throws. */
export async function dispatch(
  argv: readonly string[],
  ctx: Omit<CommandContext, 'verbose'>,
  options: DispatchOptions,
): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const context: CommandContext = { ...ctx, verbose };
  try {
    return await runCommandLine([...argv], context, options);
  } catch (error) {
    ctx.stderr.write(formatError(error, verbose) + '\n');
    return exitCodeOf(error);
  }
}

async function runCommandLine(
  argv: string[],
  ctx: CommandContext,
  options: DispatchOptions,
): Promise<number> {
  const first = argv[0];
  if (
    first === undefined ||
    first === 'help' ||
    ((first === '--help' || first === '-h') && argv.length === 1)
  ) {
    ctx.stdout.write(programHelp(options));
    return first === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (first === '--version') {
    ctx.stdout.write(`${options.version}\n`);
    return ExitCode.ok;
  }
  let name: string;
  let rest: string[];
  if (first.startsWith('-') && options.defaultCommand) {
    name = options.defaultCommand;
    rest = argv;
  } else {
    name = first;
    rest = argv.slice(1);
  }
  const entry = options.commands[name];
  if (!entry) {
    const close = suggest(name, Object.keys(options.commands));
    throw new UsageError(
      `unknown command "${name}"`,
      close
        ? `did you mean "${options.program} ${close}"?`
        : `run "${options.program} --help" for the list`,
    );
  }
  const command = await entry.load();
  const spec: OptionSpec = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: spec, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorFrom(error as Error, spec, `${options.program} ${command.name}`);
  }
  if (parsed.values.help) {
    ctx.stdout.write(`${entry.summary}\n\nUsage:\n${command.usage}\n`);
    return ExitCode.ok;
  }
  const [min, max] = command.positionals ?? [0, 0];
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new UsageError(
      parsed.positionals.length < min
        ? `${options.program} ${command.name} needs ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}`
        : `unexpected argument "${parsed.positionals[max]}"`,
      `usage:\n${command.usage}`,
    );
  }
  const code = await command.run(
    { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals },
    ctx,
  );
  return code ?? ExitCode.ok;
}

function usageErrorFrom(error: Error, spec: OptionSpec, program: string): UsageError {
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (unknown) {
    const names = Object.keys(spec).map((n) => `--${n}`);
    const close = suggest(unknown, names);
    return new UsageError(
      `unknown option ${unknown}`,
      close ? `did you mean ${close}?` : `run "${program} --help" for its options`,
    );
  }
  return new UsageError(
    error.message.replace(/\. To specify.*$/s, ''),
    `run "${program} --help" for its options`,
  );
}

function programHelp(options: DispatchOptions): string {
  const lines = [
    `${options.program} ${options.version}: turn a fresh machine into a web service straight from git`,
    '',
    'Commands:',
  ];
  for (const [name, { summary }] of Object.entries(options.commands)) {
    lines.push(`  ${name.padEnd(12)} ${summary}`);
  }
  lines.push(
    '',
    `Run "${options.program} COMMAND --help" for a command's options; --verbose shows stack traces.`,
  );
  if (options.epilog) lines.push(options.epilog);
  return lines.join('\n') + '\n';
}
