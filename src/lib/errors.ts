// Errors a person can act on. The CLI's one top-level handler turns these into a message and an exit
// code; anything else is a bug and is reported as one (with the stack only under --verbose).
import { redactSecrets } from './redact.js';

/** Exit codes used by every command. */
export const ExitCode = {
  ok: 0,
  /** The input was wrong (recipe, flags, files): the message says how to fix it. */
  input: 1,
  /** The command line itself was malformed. */
  usage: 2,
  /** The work failed at run time (a step, the network, a cloud call). */
  failed: 3,
  /** Interrupted (Ctrl-C / SIGTERM). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface GitstrapErrorOptions {
  /** One line on how to fix it. */
  hint?: string;
  /** Extra lines shown under the message (e.g. the last lines of a failed step's output). */
  details?: string[];
  exitCode?: ExitCode;
  cause?: unknown;
}

/** An expected failure with a message written for the person running the command. */
export class GitstrapError extends Error {
  readonly hint: string | undefined;
  readonly details: string[];
  readonly exitCode: ExitCode;

  constructor(message: string, options: GitstrapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GitstrapError';
    this.hint = options.hint;
    this.details = options.details ?? [];
    this.exitCode = options.exitCode ?? ExitCode.input;
  }
}

/** A malformed command line: unknown flag, missing argument. */
export class UsageError extends GitstrapError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, ...(hint === undefined ? {} : { hint }) });
    this.name = 'UsageError';
  }
}

/**
 * Formats any thrown value for a person: message, details, hint; stack only when verbose. Every
 * credential in it is redacted (a message may quote the value or the argument it came from).
 */
export function formatError(error: unknown, verbose = false): string {
  return redactSecrets(describeError(error, verbose));
}

function describeError(error: unknown, verbose: boolean): string {
  if (error instanceof GitstrapError) {
    const lines = [`error: ${error.message}`];
    for (const d of error.details) lines.push(`  ${d}`);
    if (error.hint) lines.push(`  hint: ${error.hint}`);
    if (verbose && error.stack) lines.push('', error.stack);
    if (verbose && error.cause instanceof Error && error.cause.stack)
      lines.push('cause:', error.cause.stack);
    return lines.join('\n');
  }
  const message = error instanceof Error ? error.message : String(error);
  const lines = [`error: unexpected failure: ${message}`];
  if (verbose && error instanceof Error && error.stack) lines.push('', error.stack);
  else lines.push('  hint: run again with --verbose for the stack trace, and report it as a bug');
  return lines.join('\n');
}

/** The exit code a thrown value should end the process with. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof GitstrapError ? error.exitCode : ExitCode.failed;
}
