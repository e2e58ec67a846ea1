// A minimal tar writer for tests (ustar headers, a pax header for long names and link targets),
// written from the format, not from the library the engine reads archives with: it makes the
// archives GNU tar will not (names with "..", devices, hard links to nothing, a link then a file
// through it).
import { gzipSync } from 'node:zlib';

/** One archive member as the test wants it written. */
export interface TarMember {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'fifo';
  /** File content (files only). */
  content?: string | Buffer;
  /** Link target (symlinks and hard links). */
  target?: string;
  mode?: number;
}

const TYPE_FLAG: Record<TarMember['type'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  dir: '5',
  fifo: '6',
};

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(fields: {
  name: string;
  mode: number;
  size: number;
  type: string;
  linkname: string;
}): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(fields.size, 12), 124, 'ascii');
  block.write(octal(1_700_000_000, 12), 136, 'ascii');
  block.write(fields.type, 156, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'ascii');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % 512;
  return rest ? [data, Buffer.alloc(512 - rest)] : [data];
}

/** A pax record "LEN key=value\n", where LEN counts the whole record. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  while (String(length).length + Buffer.byteLength(body) !== length) {
    length = String(length).length + Buffer.byteLength(body);
  }
  return `${length}${body}`;
}

/** An uncompressed tar archive of `members`, in order (two zero blocks at the end). */
export function makeTar(members: readonly TarMember[]): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const content = m.type === 'file' ? Buffer.from(m.content ?? '') : Buffer.alloc(0);
    const target = m.target ?? '';
    const long = Buffer.byteLength(m.name) > 100 || Buffer.byteLength(target) > 100;
    if (long) {
      const pax = Buffer.from(
        paxRecord('path', m.name) + (target ? paxRecord('linkpath', target) : ''),
      );
      parts.push(
        header({ name: 'PaxHeader', mode: 0o644, size: pax.length, type: 'x', linkname: '' }),
        ...padded(pax),
      );
    }
    parts.push(
      header({
        name: long ? 'long-name-in-pax' : m.name,
        mode: m.mode ?? (m.type === 'dir' ? 0o755 : 0o644),
        size: content.length,
        type: TYPE_FLAG[m.type],
        linkname: long ? '' : target,
      }),
      ...padded(content),
    );
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The same, gzipped. */
export function makeTgz(members: readonly TarMember[]): Buffer {
  return gzipSync(makeTar(members));
}
