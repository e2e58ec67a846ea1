// The recipe schema's building blocks: names, durations, repository URLs, refs, paths, commands
// and environments, which every section uses.
import * as z from 'zod';
import { DURATION_PATTERN } from '../../lib/duration.js';

/** Control characters: refused in names, URLs and paths. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const CONTROL = /[\u0000-\u001f\u007f]/;

/** A recipe name: lower-case letters, digits and dashes; used in paths, unit names and tags. */
export const recipeName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/, {
    error: 'expected 2-40 lower-case letters, digits or dashes, starting with a letter',
  })
  .describe('Lower-case letters, digits and dashes (2-40), starting with a letter.');

/** A duration such as 90s, 10m, 1h30m, 30d, 2w. */
export const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'expected a duration such as 90s, 10m, 1h30m, 30d' })
  .describe('A duration: digits and a unit (ms, s, m, h, d, w), e.g. 90s, 10m, 1h30m, 30d.');

/** Where a repository lives: https://, http://, git://, ssh://, scp-like git@host:path, file:// or a local path. */
export const repoUrl = z
  .string()
  .min(1)
  .refine((v) => !CONTROL.test(v) && !/\s/.test(v), {
    error: 'must not contain spaces or control characters',
  })
  .refine((v) => !v.startsWith('-'), { error: 'must not start with "-"' })
  .refine(
    (v) =>
      /^(https?|git|ssh|file):\/\//.test(v) || /^[\w.-]+@[\w.-]+:/.test(v) || v.startsWith('/'),
    {
      error:
        'expected a git URL (https://, git://, ssh://, git@host:path, file://) or an absolute path',
    },
  )
  .describe('A git URL (https://, git://, ssh://, git@host:path, file://) or an absolute path.');

/** A branch, tag or full commit SHA. */
export const gitRef = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (v) =>
      !CONTROL.test(v) &&
      !/[\s~^:?*[\\]/.test(v) &&
      !v.startsWith('-') &&
      !v.includes('..') &&
      !v.includes('@{') &&
      !v.endsWith('.lock') &&
      !v.endsWith('/') &&
      !v.startsWith('/'),
    { error: 'expected a branch, tag or commit SHA (no spaces, "..", "~^:?*[\\" or leading "-")' },
  )
  .describe('A branch, a tag, or a full 40-hex commit SHA (a SHA pins it).');

/** A path inside a checkout: relative, no "..", no control characters. */
export const relativePath = z
  .string()
  .min(1)
  .refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' })
  .refine((v) => !v.startsWith('/'), { error: 'expected a relative path (no leading "/")' })
  .refine((v) => !v.split('/').includes('..'), { error: 'must not contain ".." segments' })
  .describe('A path relative to the checkout; no ".." segments.');

/** An absolute path on the instance (where a credential or secret file lives). */
export const instancePath = z
  .string()
  .refine((v) => v.startsWith('/') && !CONTROL.test(v) && !v.split('/').includes('..'), {
    error: 'expected an absolute path on the instance, without ".." segments',
  })
  .describe('An absolute path on the instance.');

/** A command as an argument vector; no shell. Placeholders: {port}, {service}, {data}, {state}. */
export const argv = z
  .array(
    z.string().refine((v) => !v.includes('\u0000'), { error: 'must not contain NUL characters' }),
  )
  .min(1, { error: 'expected at least the program name' })
  .describe(
    'A command as an argument vector, run without a shell. Placeholders {port}, {service}, {data} and {state} are replaced.',
  );

/** Environment variables for a command. */
export const envMap = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }),
    z.string().refine((v) => !v.includes('\u0000'), { error: 'must not contain NUL characters' }),
  )
  .describe('Environment variables: NAME: value.');
