// The extraction limits of one version (recipe data.limits): the bytes its archives may expand to
// and the members they may hold, counted over every extract of the version.
import { dataLimits, type DataConfig } from '../../src/recipe/schema.js';
import { parseSize } from '../../src/lib/size.js';

/** The limits in numbers, with the recipe's own spelling of the size for messages. */
export interface ExtractLimits {
  maxBytes: number;
  maxFiles: number;
  /** As the recipe wrote it (or the default), e.g. "256mb". */
  maxBytesText: string;
}

/** The limits of a recipe's data section; the schema's defaults when it has none. */
export function resolveLimits(config: DataConfig['limits']): ExtractLimits {
  const limits = config ?? dataLimits.parse({});
  return {
    maxBytes: parseSize(limits.max_bytes),
    maxFiles: limits.max_files,
    maxBytesText: limits.max_bytes,
  };
}

/** What the extractions of one version have used so far. */
export interface ExtractBudget {
  readonly limits: ExtractLimits;
  bytes: number;
  members: number;
  /** What the version's Git LFS files took of it, before any extract (data.lfs). */
  lfsBytes: number;
  lfsFiles: number;
}

/** A fresh budget for one version. */
export function createBudget(limits: ExtractLimits): ExtractBudget {
  return { limits, bytes: 0, members: 0, lfsBytes: 0, lfsFiles: 0 };
}

/** ", counting its N Git LFS files (B bytes)" when LFS files took part of the budget; else "". */
export function lfsShare(budget: ExtractBudget): string {
  return budget.lfsFiles > 0
    ? `, counting its ${budget.lfsFiles} Git LFS files (${budget.lfsBytes} bytes)`
    : '';
}
