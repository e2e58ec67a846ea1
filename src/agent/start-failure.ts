// The start-failure record: <root>/start-failure.json, written when the agent (or `bootstrap
// packages` before it) fails before it serves, naming what failed: an install step as
// "install:NAME", else the stage ("recipe", "listen", "clone", "data", "start"). Removed once the
// agent serves.
// First boot reads it, so a failing install step ends first boot at once with a marker naming the
// step, instead of waiting out the health timeout while systemd restarts the agent.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exitCodeOf, GitstrapError } from '../lib/errors.js';
import { START_FAILURE_FILE } from '../lib/instance-paths.js';

/** What the agent was doing; "install" is refined by the step's name. */
export type StartStage = 'listen' | 'clone' | 'data' | 'install' | 'start';

/** The record, in the same shape as first boot's failure marker (bootstrap-result.json). */
export interface StartFailure {
  result: 'failure';
  step: string;
  exitCode: number;
  at: string;
  message: string;
  /** The error's detail lines (a recipe's problems, a step's last lines of output). */
  details?: string[];
}

/** The record's step name: "install:NAME" for an install step, else the stage. */
export function failedStepName(stage: StartStage, installStep?: string): string {
  return stage === 'install' && installStep ? `install:${installStep}` : stage;
}

/** The record for `error`, thrown while the agent was at `step`. */
export function startFailureOf(step: string, error: unknown, at: Date): StartFailure {
  return {
    result: 'failure',
    step,
    exitCode: exitCodeOf(error),
    at: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    message: error instanceof Error ? error.message : String(error),
    ...(error instanceof GitstrapError && error.details.length ? { details: error.details } : {}),
  };
}

/**
 * Writes the record into the state root (complete, by rename). Best effort: a failure to write it
 * must not hide the error being reported, so it returns false instead of throwing. Nothing is
 * written when the state root does not exist (the agent never got that far).
 */
export function writeStartFailure(root: string, record: StartFailure): boolean {
  if (!existsSync(root)) return false;
  const file = path.join(root, START_FAILURE_FILE);
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(record) + '\n', { mode: 0o644 });
    renameSync(`${file}.tmp`, file);
    return true;
  } catch {
    return false;
  }
}

/** Removes the record (the agent serves now). */
export function clearStartFailure(root: string): void {
  rmSync(path.join(root, START_FAILURE_FILE), { force: true });
}
