// The boot-parameter grammar: what may go on an installer's kernel command line, checked the way
// the kernel splits it (lib/cmdline.c: spaces separate, double quotes may surround a value) and the
// way dracut's shell scripts split it (on spaces, quotes ignored), so nothing smuggled inside a
// quoted value reaches the initramfs as a parameter of its own. Pure: no I/O.
import { GitstrapError } from '../lib/errors.js';
import { adviseParam, modernizeParam, type BootParam } from './anaconda-params.js';

export type { BootParam } from './anaconda-params.js';

/** The x86 kernel command line holds 2048 bytes with its terminating NUL (COMMAND_LINE_SIZE). */
export const KERNEL_CMDLINE_MAX = 2047;
/** The default limit for the extra parameters, leaving room for the base command line. */
export const BOOTPARAMS_MAX = 1024;
/**
 * At most this many parameters: the kernel hands unknown dot-less parameters to init as argv or
 * environment, and panics when more than 32 of either arrive.
 */
export const BOOTPARAMS_MAX_COUNT = 32;

export interface ParseBootParamsOptions {
  /** If set, only these names are accepted (exact, or a prefix ending in "*", e.g. "inst.*"). */
  allow?: readonly string[];
  /** Longest accepted text in bytes (default BOOTPARAMS_MAX). */
  maxLength?: number;
  /** Where the text came from, for messages: "--bootparams", "installer.bootparams", ... */
  source?: string;
}

export interface ParsedBootParams {
  params: BootParam[];
  /** The parameters as they go on the command line: deprecated ones mapped, minimal quoting. */
  canonical: string;
  warnings: string[];
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const NAME_CHAR = /[A-Za-z0-9_.-]/;

/** A bad boot parameter: what is wrong, where (column), and how to fix it. */
export class BootParamsError extends GitstrapError {
  constructor(source: string, message: string, hint?: string) {
    super(`${source}: ${message}`, hint === undefined ? {} : { hint });
    this.name = 'BootParamsError';
  }
}

/** Parses extra kernel boot parameters; throws BootParamsError on anything the grammar refuses. */
export function parseBootParams(
  text: string,
  options: ParseBootParamsOptions = {},
): ParsedBootParams {
  const source = options.source ?? 'boot parameters';
  const fail = (message: string, hint?: string): never => {
    throw new BootParamsError(source, message, hint);
  };
  checkCharacters(text, options.maxLength ?? BOOTPARAMS_MAX, fail);

  const warnings: string[] = [];
  const params: BootParam[] = [];
  for (const token of tokenize(text, fail)) {
    const modern = modernizeParam(token);
    if (modern) warnings.push(modern.warning);
    for (const p of modern ? modern.params : [token]) {
      const advice = adviseParam(p);
      if (advice) warnings.push(advice);
      params.push(p);
    }
  }
  if (params.length > BOOTPARAMS_MAX_COUNT) {
    fail(
      `${params.length} parameters; at most ${BOOTPARAMS_MAX_COUNT}`,
      'the kernel panics when more than 32 unknown parameters reach init; move settings into the kickstart',
    );
  }
  checkInitramfsView(params, options.allow, warnings, fail);
  const canonical = params.map(formatBootParam).join(' ');
  if (Buffer.byteLength(canonical) > (options.maxLength ?? BOOTPARAMS_MAX)) {
    fail(
      `is ${Buffer.byteLength(canonical)} bytes once modernized; at most ${options.maxLength ?? BOOTPARAMS_MAX}`,
    );
  }
  return { params, canonical, warnings };
}

/** `inst.ks=URL` followed by the extra parameters, checked as one command line. */
export function buildBootParams(input: {
  ks?: string;
  bootparams?: string;
  allow?: readonly string[];
  maxLength?: number;
}): ParsedBootParams {
  const parts: string[] = [];
  if (input.ks !== undefined) {
    const ks = parseBootParams(`inst.ks=${input.ks}`, { source: '--ks' });
    if (ks.params.length !== 1 || ks.params[0]!.value === undefined || /\s/.test(input.ks)) {
      throw new BootParamsError('--ks', `expected one URL, got ${JSON.stringify(input.ks)}`);
    }
    parts.push(ks.canonical);
  }
  if (input.bootparams !== undefined && input.bootparams.trim() !== '') {
    parts.push(input.bootparams);
  }
  return parseBootParams(parts.join(' '), {
    source: input.ks !== undefined ? '--ks with --bootparams' : '--bootparams',
    ...(input.allow ? { allow: input.allow } : {}),
    ...(input.maxLength !== undefined ? { maxLength: input.maxLength } : {}),
  });
}

/** One parameter as the kernel reads it: name, name=value, or name="value with spaces". */
export function formatBootParam(p: BootParam): string {
  if (p.value === undefined) return p.name;
  return p.value.includes(' ') ? `${p.name}="${p.value}"` : `${p.name}=${p.value}`;
}

// ---------------------------------------------------------------------------------------------

type Fail = (message: string, hint?: string) => never;

function checkCharacters(text: string, maxLength: number, fail: Fail): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > maxLength) {
    fail(
      `is ${bytes} bytes; at most ${maxLength}`,
      `the x86 kernel command line holds ${KERNEL_CMDLINE_MAX} bytes in all, part of it taken by the base command line`,
    );
  }
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const column = i + 1;
    if (code === 0) fail(`a NUL character at column ${column}`, 'remove it');
    if (code === 0x0a || code === 0x0d) {
      fail(`a line break at column ${column}`, 'boot parameters are one line, separated by spaces');
    }
    if (code < 0x20 || code === 0x7f) {
      fail(
        `a control character (0x${code.toString(16).padStart(2, '0')}) at column ${column}`,
        'separate parameters with single spaces; no tabs or control characters',
      );
    }
    if (code > 0x7e) {
      const cp = text.codePointAt(i)!;
      fail(
        `a non-ASCII character (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at column ${column}`,
        'the kernel splits its command line on byte 0xA0 and passes bytes unchecked; escape it as the option expects (e.g. %XX in a URL, \\xNN in a label)',
      );
    }
  }
}

/** The kernel's split: name[=value], value bare or in double quotes. */
function tokenize(text: string, fail: Fail): BootParam[] {
  const out: BootParam[] = [];
  let i = 0;
  const at = (n: number) => `column ${n + 1}`;
  while (i < text.length) {
    if (text[i] === ' ') {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
    const name = text.slice(start, i);
    if (name === '') {
      fail(
        `unexpected ${JSON.stringify(text[i])} at ${at(i)}; expected a parameter name`,
        'parameters are name or name=value; quote only the value: name="a b"',
      );
    }
    if (name === '--') {
      fail(`"--" at ${at(start)}`, 'everything after "--" goes to init; it is not accepted here');
    }
    if (!NAME.test(name)) {
      fail(
        `parameter name ${JSON.stringify(name)} at ${at(start)} must start with a letter, digit or "_"`,
        'remove the leading "-" (kernel parameters are not command-line flags)',
      );
    }
    if (i === text.length || text[i] === ' ') {
      out.push({ name });
      continue;
    }
    if (text[i] !== '=') {
      fail(
        `unexpected ${JSON.stringify(text[i])} in the parameter name at ${at(i)}`,
        'names are letters, digits, ".", "_" and "-"',
      );
    }
    i++;
    let value: string;
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) fail(`unterminated quote at ${at(i)} in ${name}=`, `close it: ${name}="..."`);
      value = text.slice(i + 1, close);
      i = close + 1;
      if (i < text.length && text[i] !== ' ') {
        fail(
          `unexpected ${JSON.stringify(text[i])} after the closing quote at ${at(i)}`,
          'a quoted value ends the parameter; put a space before the next one',
        );
      }
    } else {
      const end = text.indexOf(' ', i);
      value = text.slice(i, end < 0 ? text.length : end);
      const quote = value.indexOf('"');
      if (quote >= 0) {
        fail(
          `a double quote inside the value of ${name} at ${at(i + quote)}`,
          `the kernel accepts quotes only around a whole value: ${name}="..."; a value cannot contain one`,
        );
      }
      i += value.length;
    }
    out.push({ name, value });
  }
  return out;
}

/**
 * dracut's scripts read the command line with `for o in $CMDLINE`: split on spaces, quotes kept as
 * characters. Every word of a quoted value therefore looks like a parameter to the initramfs: the
 * allowlist and the one-kickstart rule must hold for those words too.
 */
function checkInitramfsView(
  params: BootParam[],
  allow: readonly string[] | undefined,
  warnings: string[],
  fail: Fail,
): void {
  const seen: Array<{ name: string; inner: boolean; of: string }> = [];
  for (const p of params) {
    seen.push({ name: p.name, inner: false, of: p.name });
    if (p.value === undefined || !p.value.includes(' ')) continue;
    const words = p.value.split(' ').slice(1).filter(Boolean);
    warnings.push(
      `${p.name}="${p.value}": dracut splits on spaces and ignores quotes, so the initramfs sees ${words.length + 1} words`,
    );
    for (const word of words) {
      const name = word.split('=')[0]!;
      if (NAME.test(name)) seen.push({ name, inner: true, of: p.name });
    }
  }
  const kickstarts = seen.filter((s) => s.name === 'inst.ks' || s.name === 'ks');
  if (kickstarts.length > 1) {
    const smuggled = kickstarts.find((s) => s.inner);
    fail(
      smuggled
        ? `a second kickstart (${smuggled.name}=) inside the quoted value of ${smuggled.of}`
        : 'inst.ks is given more than once',
      'give exactly one kickstart URL (with --ks or installer.ks)',
    );
  }
  if (allow) {
    for (const s of seen) {
      if (!isAllowed(s.name, allow)) {
        fail(
          s.inner
            ? `${s.name} (inside the quoted value of ${s.of}) is not an allowed parameter`
            : `${s.name} is not an allowed parameter`,
          `allowed: ${allow.join(', ')}`,
        );
      }
    }
  }
}

function isAllowed(name: string, allow: readonly string[]): boolean {
  return allow.some((a) => (a.endsWith('*') ? name.startsWith(a.slice(0, -1)) : a === name));
}
