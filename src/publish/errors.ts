// Errors of `bootstrap publish`: a message a person can act on, the recipe key or file it is about,
// and a hint. Credentials never reach one (GitstrapError's formatter redacts, and git's output is
// redacted before it is quoted).
import { ExitCode, GitstrapError, type GitstrapErrorOptions } from '../lib/errors.js';

/** A refusal or failure of a publish; `key` names the recipe key it comes from, if any. */
export class PublishError extends GitstrapError {
  readonly key: string | undefined;

  constructor(message: string, options: GitstrapErrorOptions & { key?: string } = {}) {
    const { key, ...rest } = options;
    super(message, rest);
    this.name = 'PublishError';
    this.key = key;
  }
}

/** A failure at run time (git, the network, the lock): exit code 3, as a failed sync. */
export function publishFailure(message: string, hint?: string, details?: string[]): PublishError {
  return new PublishError(message, {
    exitCode: ExitCode.failed,
    ...(hint ? { hint } : {}),
    ...(details ? { details } : {}),
  });
}
