// `bootstrap sync --recipe X [--set ...] [--root DIR] [--once | --rollback] [--json]`: pulls the data
// repo and publishes a new version atomically (data-sync/), once, on the recipe's schedule in the
// foreground, or rolls back to the previous kept version.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  createDataSync,
  startSyncSchedule,
  type SyncResult,
} from '../../../data-sync/src/index.js';
import { durationMs } from '../../lib/duration.js';
import { ExitCode, GitstrapError } from '../../lib/errors.js';
import { defaultStateRoot } from '../../lib/instance-paths.js';
import { jsonLogger } from '../../lib/log.js';
import { flagOpt, RECIPE_USAGE, recipeOptions, stringOpt, type Command } from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';

/** One line for a person: what happened to the data. */
export function describeResult(r: SyncResult): string {
  const short = (c: string | undefined) => (c ? c.slice(0, 12) : 'nothing');
  const took = `${r.durationMs} ms`;
  switch (r.outcome) {
    case 'published':
      return `published ${short(r.commit)} (was ${short(r.previous)}; served after ${r.servedAfterMs ?? r.durationMs} ms, ${took} in all)${r.notifyError ? `; notify failed: ${r.notifyError}` : ''}`;
    case 'unchanged':
      return `unchanged at ${short(r.commit)}${r.note ? ` (${r.note})` : ''} (${took})`;
    case 'rolled-back':
      return `rolled back to ${short(r.commit)} (from ${short(r.previous)})`;
    case 'failed':
      return `sync failed in ${r.phase}: ${r.error}`;
  }
}

function failure(r: SyncResult): GitstrapError {
  return new GitstrapError(
    `${r.outcome === 'failed' && r.phase === 'rollback' ? 'rollback failed' : `sync failed in ${r.phase}`}: ${r.error}`,
    {
      exitCode: ExitCode.failed,
      ...(r.hint ? { hint: r.hint } : {}),
      details: r.commit ? [`still serving ${r.commit}`] : ['no version is served yet'],
    },
  );
}

function makeDir(dir: string, root: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new GitstrapError(
      `cannot create the data folder ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { hint: `run as the agent's user, or pass --root DIR (now ${root})` },
    );
  }
}

const command: Command = {
  name: 'sync',
  usage: `  bootstrap sync --recipe NAME|PATH [--set KEY=VALUE ...] [--root DIR] [--once | --rollback] [--json]
${RECIPE_USAGE}
      --root DIR            the state root (default ${defaultStateRoot('NAME')}); data lives in DIR/data
      --once                sync once: exit 0 when published or unchanged, 3 on failure
      --rollback            point data/current back at the previous kept version
      --json                print each result as JSON
  Without --once or --rollback: sync now, then on data.schedule in the foreground until Ctrl-C.`,
  options: {
    ...recipeOptions,
    root: { type: 'string' },
    once: { type: 'boolean' },
    rollback: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, ctx) {
    const { recipe, file } = recipeFromArgs(args, ctx);
    const data = recipe.data;
    if (!data) {
      throw new GitstrapError(`${file} has no data section, so there is nothing to sync`, {
        hint: 'add data: {repo: ..., mount: ...} to the recipe (see recipes/open-qa.yaml)',
      });
    }
    const once = flagOpt(args, 'once');
    const rollback = flagOpt(args, 'rollback');
    const json = flagOpt(args, 'json');
    if (once && rollback) {
      throw new GitstrapError('--once and --rollback do not go together', {
        exitCode: ExitCode.usage,
        hint: 'roll back with --rollback alone',
      });
    }
    const root = path.resolve(ctx.cwd, stringOpt(args, 'root') ?? defaultStateRoot(recipe.name));
    const dir = path.join(root, 'data');
    makeDir(dir, root);
    const foreground = !once && !rollback;
    if (foreground && !data.schedule) {
      throw new GitstrapError(`${file}: data.schedule is not set, so there is no schedule to run`, {
        hint: 'sync once with --once, or set data.schedule (e.g. --set "data.schedule=*/10 * * * *")',
      });
    }
    const logger = jsonLogger((line) => (foreground ? ctx.stdout : ctx.stderr).write(line), {
      // --once / --rollback print their own line; the log adds only errors (all of it with --verbose).
      level: ctx.verbose ? 'debug' : foreground ? 'info' : 'error',
      base: { recipe: recipe.name },
    });
    const engine = createDataSync({ dir, data, logger, placeholders: { state: root } });
    // Once: a line for a person (or JSON). Foreground: the JSON-lines log says it all (--json adds results).
    const print = (r: SyncResult) => {
      if (json) ctx.stdout.write(JSON.stringify(r) + '\n');
      else if (!foreground) ctx.stdout.write(describeResult(r) + '\n');
    };

    if (rollback || once) {
      const result = rollback
        ? await engine.rollback()
        : await engine.sync('manual', { signal: ctx.signal });
      if (ctx.signal.aborted) return ExitCode.interrupted; // current is as it was
      if (result.outcome === 'failed' && !json) throw failure(result);
      print(result);
      return result.outcome === 'failed' ? ExitCode.failed : ExitCode.ok;
    }

    // Foreground: a sync now, then the schedule, until Ctrl-C / SIGTERM.
    print(await engine.sync('startup', { signal: ctx.signal }));
    if (ctx.signal.aborted) return ExitCode.ok;
    const schedule = startSyncSchedule({
      sync: {
        sync: async (trigger, options) => {
          const r = await engine.sync(trigger, options);
          print(r);
          return r;
        },
      },
      schedule: data.schedule!,
      jitterMs: durationMs(data.jitter),
      retries: data.retries,
      logger,
    });
    const next = schedule.nextRun();
    if (next) logger.log('info', 'data.schedule.next', { at: next.toISOString() });
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await schedule.stop();
    const health = engine.health();
    logger.log('info', 'data.schedule.stopped', { ...health });
    return ExitCode.ok;
  },
};
export default command;
