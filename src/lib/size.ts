// Sizes as recipes write them ("100kb", "1mb"), in bytes (1 kb = 1024 b). The bytes are counted by
// `bytes`, the parser Express's body parsers use for their `limit`, so a limit checked here and the
// same text given to express.raw() are the same number.
import bytes from 'bytes';

const SHAPE = /^\d+\s*(b|kb|mb|gb)?$/i;

/** Bytes of a size such as "512b", "100kb" or "1mb"; throws on anything else. */
export function parseSize(text: string): number {
  const trimmed = text.trim();
  const parsed = SHAPE.test(trimmed) ? bytes.parse(trimmed) : null;
  if (parsed === null)
    throw new Error(`expected a size such as 100kb or 1mb, got ${JSON.stringify(text)}`);
  return parsed;
}
