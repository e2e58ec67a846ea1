// The guest image the VM tier boots: built (or found in the cache) by test/vm/image.sh.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A built guest: a raw ext4 root file system and the kernel and initrd to boot it directly. */
export interface GuestImage {
  dir: string;
  root: string;
  kernel: string;
  initrd: string;
  /** manifest.txt as key → value (key, built, node, cloud-init, kernel, packages). */
  manifest: Record<string, string>;
}

const IMAGE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'image.sh');
const BUILD_TIMEOUT_MS = 40 * 60_000;

/** Builds the guest image unless it is cached, and returns where it is. */
export async function ensureImage(
  options: { log?: (line: string) => void } = {},
): Promise<GuestImage> {
  const log = options.log ?? ((line: string) => console.error(line));
  const dir = await runImageScript(log);
  return readImage(dir);
}

/** Reads a built image folder. */
export function readImage(dir: string): GuestImage {
  const manifest: Record<string, string> = {};
  for (const line of readFileSync(path.join(dir, 'manifest.txt'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) manifest[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return {
    dir,
    root: path.join(dir, 'root.img'),
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
    manifest,
  };
}

function runImageScript(log: (line: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [IMAGE_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      for (const line of d.toString().split('\n')) if (line.trim()) log(line);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), BUILD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const dir = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) return resolve(dir);
      const why = signal ? `was stopped by ${signal}` : `exited with ${code}`;
      reject(
        new Error(
          `building the VM guest image (test/vm/image.sh) ${why}:\n${stderr.trim().split('\n').slice(-15).join('\n')}`,
        ),
      );
    });
  });
}
