// Sizes as recipes write them ("100kb", "1mb"), in bytes (1 kb = 1024 b, as Express reads them).

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Bytes of a size such as "512b", "100kb" or "1mb"; throws on anything else. */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) throw new Error(`expected a size such as 100kb or 1mb, got ${JSON.stringify(text)}`);
  return Number(match[1]) * (UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1);
}
