// A deterministic tar writer: the same members give the same bytes, on any machine. Members are
// written in the order given (the caller sorts), owners are 0/0 with no names, modes are 0644/0755
// for files, 0755 for folders and 0777 for links, times are whole seconds the caller chooses, and
// names or link targets that do not fit ustar get a pax header ("path", "linkpath") before them.
// The archive ends with two zero blocks, padded to whole 10 KiB records as GNU tar writes it.
import { gzipSync } from 'node:zlib';

/** One member, as it goes into the archive. */
export interface TarMember {
  /** Relative, "/"-separated; folders without a trailing slash (it is added). */
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  /** Seconds since the epoch. */
  mtime: number;
  exec?: boolean;
  data?: Buffer;
  target?: string;
}

const BLOCK = 512;
const RECORD = 20 * BLOCK;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** Splits a name into ustar's prefix (155 bytes) and name (100 bytes) at a slash, if it can. */
function splitName(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (rest !== '' && Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) {
      return { prefix, name: rest };
    }
  }
  return undefined;
}

function header(fields: {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  mtime: number;
  type: string;
  linkname: string;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii'); // uid
  block.write(octal(0, 8), 116, 'ascii'); // gid
  block.write(octal(fields.size, 12), 124, 'ascii');
  block.write(octal(fields.mtime, 12), 136, 'ascii');
  block.write(fields.type, 156, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'ascii');
  block.write(octal(0, 8), 329, 'ascii'); // devmajor
  block.write(octal(0, 8), 337, 'ascii'); // devminor
  block.write(fields.prefix, 345, 155, 'utf8');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

/** A pax record "LEN key=value\n", where LEN counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

/** The archive's bytes (uncompressed). */
export function writeTar(members: readonly TarMember[]): Buffer {
  const out: Buffer[] = [];
  for (const m of members) {
    const name = m.kind === 'dir' ? `${m.name}/` : m.name;
    const linkname = m.kind === 'symlink' ? (m.target ?? '') : '';
    const split = splitName(name);
    const pax: string[] = [];
    if (!split) pax.push(paxRecord('path', name));
    if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
    const mtime = Math.max(0, Math.floor(m.mtime));
    if (pax.length) {
      const body = Buffer.from(pax.join(''));
      const short = name.replace(/\/$/, '').split('/').pop()!.slice(0, 80);
      out.push(
        header({
          name: `PaxHeaders/${short}`,
          prefix: '',
          mode: 0o644,
          size: body.length,
          mtime,
          type: 'x',
          linkname: '',
        }),
        ...padded(body),
      );
    }
    const data = m.kind === 'file' ? (m.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const fitted = split ?? { prefix: '', name: name.slice(0, 100) };
    out.push(
      header({
        name: fitted.name,
        prefix: fitted.prefix,
        mode: m.kind === 'dir' ? 0o755 : m.kind === 'symlink' ? 0o777 : m.exec ? 0o755 : 0o644,
        size: data.length,
        mtime,
        type: m.kind === 'dir' ? '5' : m.kind === 'symlink' ? '2' : '0',
        linkname: linkname.length && Buffer.byteLength(linkname) <= 100 ? linkname : '',
      }),
    );
    if (data.length) out.push(...padded(data));
  }
  out.push(Buffer.alloc(2 * BLOCK));
  const length = out.reduce((n, b) => n + b.length, 0);
  if (length % RECORD) out.push(Buffer.alloc(RECORD - (length % RECORD)));
  return Buffer.concat(out);
}

/** gzip with a fixed header (no name, no time) at the best compression: the same input, the same bytes. */
export function gzipDeterministic(data: Buffer): Buffer {
  return gzipSync(data, { level: 9 });
}
