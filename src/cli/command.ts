// What a command is, and what it gets from the dispatcher. Commands are thin: they parse their
// flags into options, call a planner or an engine, and print. Side effects come through the context.
import type { ParseArgsConfig } from 'node:util';
import { INSTANCE_PATHS } from '../lib/instance-paths.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** The outside world as a command sees it; tests pass their own. */
export interface CommandContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborted on Ctrl-C / SIGTERM: long-running commands stop and clean up. */
  signal: AbortSignal;
  verbose: boolean;
  /** Folder of gitstrap's own recipes (undefined in the instance bundle). */
  builtinRecipes?: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** The usage line(s) and option help shown by --help. */
  usage: string;
  options: OptionSpec;
  /** How many positional arguments it takes: [min, max]. */
  positionals?: [number, number];
  /** Returns the exit code (0 when it returns nothing). */
  run(args: ParsedArgs, ctx: CommandContext): Promise<number | void>;
}

/** Options every recipe-taking command accepts. */
export const recipeOptions = {
  recipe: { type: 'string', short: 'r' },
  set: { type: 'string', multiple: true },
} as const satisfies OptionSpec;

export const RECIPE_USAGE = `  -r, --recipe NAME|PATH   recipes/NAME.yaml (also ./recipes, ${INSTANCE_PATHS.recipesDir}), or a file
      --set KEY.PATH=VALUE  override a recipe key, typed by the schema (repeatable)`;

/** Reads a string option. */
export function stringOpt(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Reads a repeatable string option. */
export function listOpt(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Reads a boolean flag. */
export function flagOpt(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
