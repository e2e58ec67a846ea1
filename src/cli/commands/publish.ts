// `bootstrap publish --recipe X --from DIR [--message M] [--root DIR] [--once] [--json]`: the data
// repo's publisher side (the seed's QA server). Commits DIR to data.repo packed as data.transform
// expects it (src/publish/), and pushes it; once (cron, a systemd timer, scripts), or now and then on
// publish.schedule in the foreground (a systemd service).
import path from 'node:path';
import cron from 'node-cron';
import { ExitCode, GitstrapError, formatError } from '../../lib/errors.js';
import { jsonLogger, type Logger } from '../../lib/log.js';
import type { Recipe } from '../../recipe/schema.js';
import { publishFolder, type PublishResult } from '../../publish/publish.js';
import { flagOpt, RECIPE_USAGE, recipeOptions, stringOpt, type Command } from '../command.js';
import { recipeFromArgs } from '../recipe-arg.js';
import { defaultStateRoot } from '../../lib/instance-paths.js';

/** One line for a person: what the publish did. */
export function describePublish(r: PublishResult): string {
  const short = (c: string | undefined) => (c ? c.slice(0, 12) : 'nothing');
  const archives = r.archives.map(
    (a) => `${a.path} ${(a.bytes / 1024).toFixed(1)} KB, ${a.members} members`,
  );
  const what = `${r.entries} files${archives.length ? ` (${archives.join('; ')})` : ''}`;
  const mirror = r.mirror
    ? `\n  mirror: ${r.mirror.dir} ${r.mirror.updated ? 'now names' : 'already named'} ${short(r.mirror.commit)} (${r.mirror.bundles.map((b) => `${b.file} ${(b.size / 1024).toFixed(1)} KB`).join('; ')})`
    : '';
  const notes = r.skippedChecks.map((c) => `\n  note: ${c}`).join('') + mirror;
  if (r.outcome === 'unchanged') {
    return `unchanged: ${r.branch} already holds this folder at ${short(r.commit)} (${what}; ${r.durationMs} ms)${notes}`;
  }
  const trimmed = r.trimmed
    ? `; history trimmed to ${r.trimmed.kept} commits${r.trimmed.dropped !== undefined ? ` (${r.trimmed.dropped} dropped)` : ''}`
    : '';
  return `published ${short(r.commit)} on ${r.branch} (was ${short(r.previous)}; ${what}${trimmed}; ${r.durationMs} ms)${notes}`;
}

function dataOf(recipe: Recipe, file: string): void {
  if (!recipe.data) {
    throw new GitstrapError(`${file} has no data section, so there is no data repo to publish to`, {
      hint: 'add data: {repo: ..., mount: ...} to the recipe (see recipes/open-qa.yaml)',
    });
  }
}

const command: Command = {
  name: 'publish',
  usage: `  bootstrap publish --recipe NAME|PATH --from DIR [--set KEY=VALUE ...] [--message M] [--root DIR] [--once] [--json]
${RECIPE_USAGE}
      --from DIR            the folder to publish: what the instances should serve (their data/current)
      --message M           the commit message (default "Publish DIR at TIME")
      --root DIR            the publisher's state root (default ${defaultStateRoot('NAME')}); its cache and
                            lock live in DIR/publish
      --once                publish once (cron, systemd timers, scripts): exit 0 when published or
                            unchanged, 1 when the folder or recipe is refused, 3 on failure
      --json                print each result as JSON
  Packs DIR as data.transform expects it (an extract transform gets its archive, built deterministically),
  checks that the instances' own transforms and checks give DIR back, commits it on data.ref and pushes
  it to publish.repo (default data.repo) with a lease; publish.keep_history bounds the branch.
  Without --once: publish now, then on publish.schedule in the foreground until Ctrl-C.`,
  options: {
    ...recipeOptions,
    from: { type: 'string' },
    message: { type: 'string', short: 'm' },
    root: { type: 'string' },
    once: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run(args, ctx) {
    const { recipe, file } = recipeFromArgs(args, ctx);
    dataOf(recipe, file);
    const fromArg = stringOpt(args, 'from');
    if (!fromArg) {
      throw new GitstrapError('missing --from DIR: the folder to publish', {
        exitCode: ExitCode.usage,
        hint: 'e.g. --from /var/qa/cache_storage_for_open_qa',
      });
    }
    const once = flagOpt(args, 'once');
    const json = flagOpt(args, 'json');
    const schedule = recipe.publish?.schedule;
    if (!once && !schedule) {
      throw new GitstrapError(
        `${file}: publish.schedule is not set, so there is no schedule to run`,
        {
          hint: 'publish once with --once (from cron or a systemd timer), or set publish.schedule',
        },
      );
    }
    if (!once && !cron.validate(schedule!)) {
      throw new GitstrapError(
        `${file}: publish.schedule is not a cron expression: ${JSON.stringify(schedule)}`,
        {
          hint: 'five fields (minute hour day-of-month month day-of-week), e.g. "1 0 * * *"',
        },
      );
    }
    const root = path.resolve(ctx.cwd, stringOpt(args, 'root') ?? defaultStateRoot(recipe.name));
    const logger: Logger = jsonLogger((line) => (once ? ctx.stderr : ctx.stdout).write(line), {
      level: ctx.verbose ? 'debug' : once ? 'error' : 'info',
      base: { recipe: recipe.name },
    });
    const run = () =>
      publishFolder({
        stateDir: path.join(root, 'publish'),
        recipe,
        from: path.resolve(ctx.cwd, fromArg),
        ...(stringOpt(args, 'message') ? { message: stringOpt(args, 'message')! } : {}),
        logger,
        signal: ctx.signal,
      });
    const print = (r: PublishResult) =>
      ctx.stdout.write((json ? JSON.stringify(r) : describePublish(r)) + '\n');

    if (once) {
      try {
        print(await run());
      } catch (error) {
        if (ctx.signal.aborted) {
          ctx.stderr.write(`${formatError(error, ctx.verbose)}\n`);
          return ExitCode.interrupted;
        }
        throw error;
      }
      return ExitCode.ok;
    }

    // Foreground: publish now, then on the schedule; a failed run is logged and the next one tries again.
    let running: Promise<void> | undefined;
    const attempt = async () => {
      try {
        const r = await run();
        logger.log('info', r.outcome === 'published' ? 'publish.published' : 'publish.unchanged', {
          commit: r.commit,
          previous: r.previous,
          durationMs: r.durationMs,
        });
        if (json) print(r);
      } catch (error) {
        if (ctx.signal.aborted) logger.log('info', 'publish.interrupted', {});
        else logger.log('error', 'publish.failed', { error: formatError(error, false) });
      }
    };
    const tracked = () => (running = attempt().finally(() => (running = undefined)));
    await tracked();
    if (ctx.signal.aborted) return ExitCode.ok;
    const task = cron.schedule(schedule!, () => (running ? undefined : tracked()), {
      name: 'gitstrap-publish',
      noOverlap: true,
    });
    logger.log('info', 'publish.schedule.started', { schedule });
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await task.destroy();
    await running; // an interrupted publish leaves the branch as it was (see docs/fleet.md)
    logger.log('info', 'publish.schedule.stopped', {});
    return ExitCode.ok;
  },
};
export default command;
