// Running the planned install steps: each in order, its output logged as JSON lines and kept in
// steps/<name>.log, a stamp in steps/<name>.done when it succeeds. A failing step stops the run
// with its name, how it ended and its last lines of output. Package steps are in packages.ts,
// patch steps in patch-step.ts.
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { durationMs } from '../lib/duration.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Recipe } from '../recipe/schema.js';
import { ensurePackages, type PackageContext } from './packages.js';
import { runPatchStep } from './patch-step.js';
import { fillArgv, fillEnv, placeholderEnv, type Placeholders } from '../lib/placeholders.js';
import { describeOutcome, runCommand } from './run-command.js';
import { decideSteps, planSteps, type PlannedStep, type StepStamp } from './step-plan.js';

/** What running the steps needs. */
export interface RunStepsOptions {
  service: Recipe['service'];
  commit: string;
  checkout: string;
  stepsDir: string;
  placeholders: Placeholders;
  /** The agent's environment, which commands inherit. */
  env: NodeJS.ProcessEnv;
  logger: Logger;
  packages: PackageContext;
  signal?: AbortSignal;
  now?: () => Date;
  /** Called as each step starts running (not for skipped ones). */
  onStep?: (name: string) => void;
}

/** What happened to each step. */
export interface StepReport {
  name: string;
  action: 'ran' | 'skipped';
  durationMs?: number;
}

/** Reads the stamps of earlier runs. */
export function readStamps(stepsDir: string, names: readonly string[]): Map<string, StepStamp> {
  const stamps = new Map<string, StepStamp>();
  for (const name of names) {
    try {
      stamps.set(
        name,
        JSON.parse(readFileSync(path.join(stepsDir, `${name}.done`), 'utf8')) as StepStamp,
      );
    } catch {
      // never finished
    }
  }
  return stamps;
}

/** The environment of a command step: the agent's, the placeholders, service.env, step.env. */
export function stepEnv(
  base: NodeJS.ProcessEnv,
  service: Recipe['service'],
  stepEnvMap: Record<string, string> | undefined,
  placeholders: Placeholders,
): NodeJS.ProcessEnv {
  return {
    ...base,
    ...placeholderEnv(placeholders),
    ...fillEnv(service.env, placeholders),
    ...fillEnv(stepEnvMap, placeholders),
  };
}

/** The argv a step runs: its `run` with placeholders filled, or its `shell` under /bin/sh -c. */
export function stepArgv(planned: PlannedStep, placeholders: Placeholders): string[] {
  const { step } = planned;
  if (step.run) return fillArgv(step.run, placeholders);
  if (step.shell !== undefined) return ['/bin/sh', '-c', step.shell, planned.name];
  throw new Error(`step ${planned.name} has no command`);
}

/** Runs every install step that is not already done for this commit and definition. */
export async function runInstallSteps(options: RunStepsOptions): Promise<StepReport[]> {
  const { logger, stepsDir } = options;
  const now = options.now ?? (() => new Date());
  await mkdir(stepsDir, { recursive: true });
  const hasLock = existsSync(path.join(options.checkout, 'package-lock.json'));
  const plan = planSteps(options.service, options.commit, hasLock);
  const decisions = decideSteps(
    plan,
    readStamps(
      stepsDir,
      plan.map((p) => p.name),
    ),
  );
  const reports: StepReport[] = [];
  for (const planned of decisions) {
    const stampFile = path.join(stepsDir, `${planned.name}.done`);
    if (planned.action === 'skip') {
      logger.log('info', 'step.skipped', {
        step: planned.name,
        reason: 'done for this commit and definition',
      });
      reports.push({ name: planned.name, action: 'skipped' });
      continue;
    }
    await rm(stampFile, { force: true });
    options.onStep?.(planned.name);
    const started = Date.now();
    logger.log('info', 'step.start', { step: planned.name });
    if (planned.step.packages !== undefined) {
      await ensurePackages(planned.name, planned.step.packages, options.packages);
    } else if (planned.step.patch !== undefined) {
      await runPatchStep(planned, {
        checkout: options.checkout,
        commit: options.commit,
        stepsDir,
        env: options.env,
        logger,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } else {
      await runCommandStep(planned, options);
    }
    const stamp: StepStamp = {
      fingerprint: planned.fingerprint,
      commit: options.commit,
      finishedAt: now().toISOString(),
    };
    await writeFile(`${stampFile}.tmp`, JSON.stringify(stamp) + '\n');
    await rename(`${stampFile}.tmp`, stampFile);
    const elapsed = Date.now() - started;
    logger.log('info', 'step.done', { step: planned.name, durationMs: elapsed });
    reports.push({ name: planned.name, action: 'ran', durationMs: elapsed });
  }
  return reports;
}

async function runCommandStep(planned: PlannedStep, options: RunStepsOptions): Promise<void> {
  const { step, name } = planned;
  const cwd = path.join(options.checkout, step.cwd ?? '.');
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
    throw new GitstrapError(
      `install step "${name}": cwd "${step.cwd}" is not a folder of the service checkout`,
      {
        hint: 'cwd is relative to the service repo; fix it in the recipe',
      },
    );
  }
  const argv = stepArgv(planned, options.placeholders);
  const logFile = path.join(options.stepsDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'w', mode: 0o640 });
  log.write(
    `# ${new Date().toISOString()} ${step.shell !== undefined ? 'shell' : JSON.stringify(argv)}\n`,
  );
  const stepLogger = options.logger.child({ step: name });
  const outcome = await runCommand(
    {
      argv,
      cwd,
      env: stepEnv(options.env, options.service, step.env, options.placeholders),
      timeoutMs: durationMs(step.timeout),
    },
    {
      onLine: (stream, line) => {
        log.write(line + '\n');
        stepLogger.log('info', 'step.output', { stream, line });
      },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const ending = describeOutcome(outcome, step.timeout);
  log.write(`# ${ending}\n`);
  await new Promise<void>((resolve) => log.end(resolve));
  if (outcome.code === 0) return;
  options.logger.log('error', 'step.failed', { step: name, outcome: ending, code: outcome.code });
  const program = argv[0] ?? '';
  throw new GitstrapError(`install step "${name}" failed: ${ending}`, {
    details: outcome.tail.length
      ? ['last lines of output:', ...outcome.tail.map((l) => `  ${l}`)]
      : [],
    hint:
      outcome.startError === 'ENOENT'
        ? `"${program}" is not installed or not on PATH; add a packages step that installs it`
        : `full output in ${logFile}; fix the cause and run again: steps already done are skipped`,
    exitCode: outcome.aborted ? ExitCode.interrupted : ExitCode.failed,
  });
}
