// The extraction limits of one version (recipe data.limits): the bytes its archives may expand to
// and the members they may hold, counted over every extract of the version.
import { dataLimits, type DataConfig } from '../../src/recipe/schema.js';
import { parseSize } from '../../src/serve/size.js';

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
}

/** A fresh budget for one version. */
export function createBudget(limits: ExtractLimits): ExtractBudget {
  return { limits, bytes: 0, members: 0 };
}
