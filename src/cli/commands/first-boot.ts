// `bootstrap first-boot --recipe NAME --port N ...`: the part of first boot that runs once Node.js
// and the agent exist (src/userdata/first-boot-finish.ts). The first-boot script runs it as root (it
// needs systemctl) with the arguments the user-data gave it; nothing else does.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../../lib/errors.js';
import { defaultStateRoot, INSTANCE_PATHS, START_FAILURE_FILE } from '../../lib/instance-paths.js';
import {
  finishFirstBoot,
  type FinishDeps,
  type SystemctlResult,
} from '../../userdata/first-boot-finish.js';
import { DEFAULT_HEALTH_HOST, DEFAULT_HEALTH_TIMEOUT_SECONDS } from '../../userdata/first-boot.js';
import { flagOpt, stringOpt, type Command } from '../command.js';

const NAME = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

const command: Command = {
  name: 'first-boot',
  usage: `  bootstrap first-boot --recipe NAME --port N [--health-host ADDRESS] [--health-timeout SECONDS] [--packages]
      --health-host ADDRESS      where to ask for /_gitstrap/healthz (default ${DEFAULT_HEALTH_HOST})
      --health-timeout SECONDS   how long to wait for it (default ${DEFAULT_HEALTH_TIMEOUT_SECONDS})
      --packages                 the recipe has packages steps: the unit runs bootstrap packages first
  Run as root by the first-boot script, once the agent is installed: enables
  gitstrap@NAME.service (writes and starts it if the script has not), waits for it, writes
  ${INSTANCE_PATHS.result}.`,
  options: {
    recipe: { type: 'string', short: 'r' },
    port: { type: 'string' },
    'health-host': { type: 'string' },
    'health-timeout': { type: 'string' },
    packages: { type: 'boolean' },
  },
  async run(args, ctx) {
    const name = stringOpt(args, 'recipe') ?? '';
    if (!NAME.test(name)) throw new UsageError('--recipe must be a recipe name');
    const port = wholeNumber(stringOpt(args, 'port'), '--port');
    if (port < 1 || port > 65535) throw new UsageError('--port must be from 1 to 65535');
    const say = (line: string) => ctx.stdout.write(`gitstrap: ${line}\n`);
    const deps: FinishDeps = {
      systemctl: (argv) => systemctl(argv, ctx.env),
      healthy: (url) => answers(url),
      now: () => new Date(),
      // Ctrl-C or SIGTERM ends the wait (as a failure of the step it interrupts).
      sleep: (ms) => sleep(ms, undefined, { signal: ctx.signal }),
      say,
      print: (text) => ctx.stdout.write(text),
      warn: (line) => ctx.stderr.write(`gitstrap: error: ${line}\n`),
    };
    return finishFirstBoot(
      {
        name,
        port,
        healthHost: stringOpt(args, 'health-host') ?? DEFAULT_HEALTH_HOST,
        healthTimeoutSeconds: wholeNumber(
          stringOpt(args, 'health-timeout') ?? String(DEFAULT_HEALTH_TIMEOUT_SECONDS),
          '--health-timeout',
        ),
        packages: flagOpt(args, 'packages'),
        startFailureFile: `${defaultStateRoot(name)}/${START_FAILURE_FILE}`,
        // The first-boot sandbox's root (test/userdata/sandbox.ts), as in the script; never set on
        // a real machine.
        root: ctx.env.GITSTRAP_TEST_ROOT ?? '',
      },
      deps,
    );
  },
};
export default command;

function wholeNumber(value: string | undefined, flag: string): number {
  if (value === undefined || !/^\d{1,9}$/.test(value)) {
    throw new UsageError(`${flag} must be a whole number`);
  }
  return Number(value);
}

/** systemctl ARGS, its output captured; bounded (start waits for the unit's package step, 15 min). */
function systemctl(args: string[], env: NodeJS.ProcessEnv): Promise<SystemctlResult> {
  return new Promise((resolve) => {
    execFile(
      'systemctl',
      args,
      { env, timeout: 20 * 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Whether GET url answers below 400 within 5 s. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 5000 }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 500) < 400);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
