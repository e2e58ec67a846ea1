// The second half of first boot, on the instance, once Node.js and the agent exist (`bootstrap
// first-boot`, run as root by the first-boot script): check the recipe cloud-init wrote, enable the
// agent's unit (write and start it first when the script could not), wait for its healthz or its
// start-failure record, and write bootstrap-result.json. The script did the first half (ttl,
// packages, user, agent, and the unit the agent carries, started without waiting) and wrote the
// result itself when one of those failed. systemctl, the health probe and the clock are injected.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { INSTANCE_PATHS, recipePath } from '../lib/instance-paths.js';
import { agentUnitText } from './agent-unit.js';

export interface FinishOptions {
  /** The recipe name: the unit's instance name. */
  name: string;
  port: number;
  /** The address to ask for /_gitstrap/healthz. */
  healthHost: string;
  healthTimeoutSeconds: number;
  /** The recipe has packages steps: the unit runs `bootstrap packages` as root first. */
  packages: boolean;
  /** Where the agent records a failure to start (an instance path). */
  startFailureFile: string;
  /** Prefixed to every path ('' on a machine; a folder in tests). */
  root?: string;
}

export interface SystemctlResult {
  code: number;
  /** stdout and stderr. */
  output: string;
}

export interface FinishDeps {
  systemctl(args: string[]): Promise<SystemctlResult>;
  /** Whether the agent answers (a status below 400 within 5 s). */
  healthy(url: string): Promise<boolean>;
  now(): Date;
  sleep(ms: number): Promise<void>;
  /** A line for the console (stdout), after "gitstrap: ". */
  say(line: string): void;
  /** Text for the console as it is (systemctl's own output). */
  print(text: string): void;
  /** An error line (stderr). */
  warn(line: string): void;
}

const POLL_MS = 500;
/** Restarts without a record or an answer after which first boot stops waiting. */
const MAX_RESTARTS = 3;

class StepFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The agent's start-failure record, written as the result instead. */
    readonly record?: { text: string; step: string },
  ) {
    super(message);
  }
}

/** ISO 8601 to the second, as the script writes it. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Runs the steps recipe, service and health; writes the result; returns the exit code. */
export async function finishFirstBoot(options: FinishOptions, deps: FinishDeps): Promise<number> {
  const root = options.root ?? '';
  const unit = `gitstrap@${options.name}.service`;
  const steps: Array<[string, () => Promise<void>]> = [
    ['recipe', async () => checkRecipe(root, options.name)],
    ['service', () => startUnit(root, options, unit, deps)],
    ['health', () => waitForAgent(root, options, unit, deps)],
  ];
  for (const [step, run] of steps) {
    deps.say(`step ${step}: started`);
    try {
      await run();
    } catch (error) {
      const failure =
        error instanceof StepFailure
          ? error
          : new StepFailure(
              error instanceof Error ? error.message : String(error),
              exitCodeFrom(error),
            );
      deps.warn(failure.message);
      writeResult(
        root,
        failure.record?.text ??
          JSON.stringify({
            result: 'failure',
            step,
            exitCode: failure.exitCode,
            at: isoSeconds(deps.now()),
          }),
      );
      deps.say(`bootstrap failed at step ${failure.record?.step ?? step}`);
      deps.say(`(exit code ${failure.exitCode}; the lines above say why)`);
      return failure.exitCode;
    }
    deps.say(`step ${step}: done`);
  }
  const expiresAt = readIfThere(root + INSTANCE_PATHS.expiresAt)?.trim();
  writeResult(
    root,
    JSON.stringify({
      result: 'success',
      recipe: options.name,
      at: isoSeconds(deps.now()),
      ...(expiresAt ? { expiresAt } : {}),
    }),
  );
  deps.say('bootstrap succeeded');
  return 0;
}

function exitCodeFrom(error: unknown): number {
  const code =
    typeof error === 'object' && error !== null
      ? (error as { exitCode?: unknown }).exitCode
      : undefined;
  return typeof code === 'number' && code > 0 ? code : 1;
}

// recipe: cloud-init wrote it (write_files). The agent validates it as it starts; a recipe it
// refuses ends step health with its record, step "recipe".
function checkRecipe(root: string, name: string): void {
  const file = recipePath(name);
  if (!(readIfThere(root + file) ?? '')) {
    throw new StepFailure(`${file} is missing (see write_files)`, 1);
  }
}

// service: the agent's unit, enabled (it starts at every boot) and started, unless it runs already.
// The script's step unit has written the unit the agent carries (or kept an operator's own), taken
// away an earlier start-failure record and started it without waiting: `start` here then waits for
// that start (the package step) to end. When the script found no unit to start, it is written and
// the record taken away here. The unit is new to systemd, which reads it as it starts: no
// daemon-reload, which takes seconds on a small machine.
async function startUnit(
  root: string,
  options: FinishOptions,
  unit: string,
  deps: FinishDeps,
): Promise<void> {
  const unitFile = root + INSTANCE_PATHS.agentUnit;
  if (!existsSync(unitFile)) {
    mkdirSync(path.dirname(unitFile), { recursive: true });
    writeFileSync(`${unitFile}.tmp`, agentUnitText({ packages: options.packages }));
    chmodSync(`${unitFile}.tmp`, 0o644);
    renameSync(`${unitFile}.tmp`, unitFile);
    rmSync(root + options.startFailureFile, { force: true });
  }
  for (const args of [
    ['enable', '--no-reload', unit],
    ['start', unit],
  ]) {
    const result = await deps.systemctl(args);
    if (result.output.trim()) deps.print(result.output);
    if (result.code !== 0) {
      // The package step (ExecStartPre) records what failed, as the agent does.
      const record = readIfThere(root + options.startFailureFile);
      if (record !== undefined)
        throw agentFailure(record, `see journalctl -u gitstrap@${options.name}`);
      throw new StepFailure(
        `systemctl ${args.join(' ')} failed (exit ${result.code})`,
        result.code,
      );
    }
  }
}

// health: polls the agent's healthz every 0.5 s until it answers, the agent records a failure to
// start, systemd has restarted it 3 times without either (it crashes before it can say why), or
// the health timeout runs out.
async function waitForAgent(
  root: string,
  options: FinishOptions,
  unit: string,
  deps: FinishDeps,
): Promise<void> {
  const host = options.healthHost.includes(':') ? `[${options.healthHost}]` : options.healthHost;
  const url = `http://${host}:${options.port}/_gitstrap/healthz`;
  const deadline = deps.now().getTime() + options.healthTimeoutSeconds * 1000;
  const failureFile = root + options.startFailureFile;
  const journal = `see journalctl -u gitstrap@${options.name}`;
  let restarts: number;
  for (;;) {
    const record = readIfThere(failureFile);
    if (record !== undefined) throw agentFailure(record, journal);
    if (await deps.healthy(url)) {
      deps.say(`the agent answers on port ${options.port}`);
      return;
    }
    restarts = await showNumber(deps, unit, 'NRestarts');
    if (restarts >= MAX_RESTARTS || deps.now().getTime() >= deadline) break;
    await deps.sleep(POLL_MS);
  }
  const status = await deps.systemctl(['--no-pager', '--lines=30', 'status', unit]);
  deps.print(status.output);
  if (restarts >= MAX_RESTARTS) {
    const show = await deps.systemctl(['show', '-p', 'ExecMainStatus', '--value', unit]);
    const last = show.code === 0 && show.output.trim() ? show.output.trim() : '?';
    throw new StepFailure(
      `the agent exited ${restarts} times without serving or saying why (last exit status ${last}): ${journal}`,
      1,
    );
  }
  throw new StepFailure(
    `no 200 from http://${options.healthHost}:${options.port}/_gitstrap/healthz in ${options.healthTimeoutSeconds}s: ${journal}`,
    1,
  );
}

/** The failure for the agent's start-failure record (src/agent/start-failure.ts): it becomes the
 * result as it is, and names the step (e.g. install:build). */
function agentFailure(text: string, journal: string): StepFailure {
  let r: { step?: unknown; message?: unknown; details?: unknown };
  try {
    r = JSON.parse(text) as typeof r;
  } catch {
    // Not a record (cut short?): first boot still ends, as a failure of step health.
    return new StepFailure(
      `the agent could not start the service (its record is unreadable); ${journal}`,
      1,
    );
  }
  const step = String(r.step);
  const details = Array.isArray(r.details) ? r.details.map(String) : [];
  const why = [`${step}: ${String(r.message)}`, ...details].join('\n');
  return new StepFailure(
    `the agent could not start the service: ${why}; ${journal} (systemd keeps retrying)`,
    1,
    { text: text.trimEnd(), step },
  );
}

async function showNumber(deps: FinishDeps, unit: string, property: string): Promise<number> {
  const result = await deps.systemctl(['show', '-p', property, '--value', unit]);
  const value = result.output.trim();
  return result.code === 0 && /^\d+$/.test(value) ? Number(value) : 0;
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Replaces the result file atomically (root-owned, readable by all). */
export function writeResult(root: string, json: string): void {
  const file = root + INSTANCE_PATHS.result;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${json}\n`);
  chmodSync(`${file}.tmp`, 0o644);
  renameSync(`${file}.tmp`, file);
}
