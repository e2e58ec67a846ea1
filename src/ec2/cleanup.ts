// The cleanup stack: every resource a launch creates is recorded as it is created, and on failure or
// Ctrl-C everything is destroyed in reverse order. What cannot be destroyed is reported with the
// exact commands that remove it.
import { GitstrapError } from '../lib/errors.js';

/** One resource and how to remove it. */
export interface CleanupEntry {
  /** "instance i-0abc", "security group sg-0123 (gitstrap-open-qa-...)". */
  what: string;
  /** Removes the resource; 'absent' when there was nothing to remove. */
  undo: () => Promise<'destroyed' | 'absent'>;
  /** The aws CLI lines that remove it by hand. */
  manual: () => string[];
}

export interface CleanupReport {
  destroyed: string[];
  left: Array<{ what: string; error: string; manual: string[] }>;
}

/** Resources in creation order; unwound last-created first. */
export class CleanupStack {
  private readonly entries: CleanupEntry[] = [];

  /** Records a resource (before the call that creates it, when its id is not needed to find it). */
  push(entry: CleanupEntry): void {
    this.entries.push(entry);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Removes everything, newest first, carrying on past failures; reports each as it goes. */
  async unwind(progress: (line: string) => void): Promise<CleanupReport> {
    const report: CleanupReport = { destroyed: [], left: [] };
    while (this.entries.length) {
      const entry = this.entries.pop()!;
      try {
        if ((await entry.undo()) === 'destroyed') {
          report.destroyed.push(entry.what);
          progress(`  destroyed ${entry.what}`);
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        report.left.push({ what: entry.what, error: message, manual: entry.manual() });
        progress(`  could not destroy ${entry.what}: ${message}`);
      }
    }
    return report;
  }
}

/** The lines that tell a person what cleanup did and, if anything is left, how to remove it. */
export function describeCleanup(report: CleanupReport, deployment: string): string[] {
  const lines: string[] = [];
  if (report.destroyed.length) lines.push(`destroyed: ${report.destroyed.join(', ')}`);
  else if (!report.left.length) lines.push('nothing had been created');
  if (report.left.length) {
    lines.push('LEFT BEHIND (these still exist and may cost money):');
    for (const left of report.left) lines.push(`  ${left.what}: ${left.error}`);
    lines.push('remove them with:');
    for (const left of report.left) for (const m of left.manual) lines.push(`  ${m}`);
    lines.push(`  (or: bootstrap down ${deployment})`);
  }
  return lines;
}

/** The error a failed or interrupted run ends with, carrying the cleanup report. */
export function cleanupError(
  message: string,
  cause: unknown,
  report: CleanupReport,
  deployment: string,
  exitCode: GitstrapError['exitCode'],
): GitstrapError {
  const hint = cause instanceof GitstrapError ? cause.hint : undefined;
  return new GitstrapError(message, {
    cause,
    exitCode,
    details: [
      ...(cause instanceof GitstrapError ? cause.details : []),
      ...describeCleanup(report, deployment),
    ],
    ...(hint ? { hint } : {}),
  });
}
