// How much a recipe may be. Recipes name where things live, so they are small; the limits keep any
// input, hostile or mistaken, to a validation that ends in well under two seconds.

/**
 * The most bytes a recipe file (or a --set value) may have: 256 KiB. A recipe travels in EC2
 * user-data, which holds 16,384 bytes (gzipped), so no recipe that can be launched comes close; and
 * the yaml parser alone needs about a second per MiB on a small machine.
 */
export const MAX_RECIPE_BYTES = 256 * 1024;

/** The deepest nesting of flow collections ([ { ), and of block collections opened on one line (- - -). */
export const MAX_NESTING = 64;

/** The most aliases (*name) a recipe may use. */
export const MAX_ALIASES = 100;

/** The most values all aliases together may repeat (each alias counts every value it stands for). */
export const MAX_ALIAS_VALUES = 10_000;

/** The most problems reported for one recipe; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 100;

/** "1,048,576" */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** The message for a text over MAX_RECIPE_BYTES, or undefined when it fits. */
export function describeOversize(bytes: number, what: string): string | undefined {
  if (bytes <= MAX_RECIPE_BYTES) return undefined;
  return `${what} is too big: ${bytes > MAX_RECIPE_BYTES + 1 ? formatCount(bytes) : `more than ${formatCount(MAX_RECIPE_BYTES)}`} bytes; a recipe may have at most ${formatCount(MAX_RECIPE_BYTES)} bytes (${MAX_RECIPE_BYTES / 1024} KiB)`;
}

export const OVERSIZE_HINT =
  'a recipe names where the service and its data live; keep large content in the data repo';
