// Wires a program to the real process: argv, streams, Ctrl-C/SIGTERM as an abort signal, exit code.
import { formatError } from '../lib/errors.js';
import type { CommandContext } from './command.js';

/** Runs a program and exits with its code. A second Ctrl-C exits at once. */
export function runProgram(
  main: (argv: string[], ctx: Omit<CommandContext, 'verbose'>) => Promise<number>,
): void {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
      // Commands close what they opened; a stray handle must not keep a finished command alive.
      setTimeout(() => process.exit(code), 1000).unref();
    },
    (error: unknown) => {
      process.stderr.write(`${formatError(error, true)}\n`);
      process.exit(3);
    },
  );
}
