// Reads the folder to publish: every file (its SHA-256 and exec bit), symlink (its target) and
// folder, without following links. What a version may not hold is refused here, naming the path:
// fifos, sockets and devices, and any .git (git will not store one, the agents will not serve one).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PublishError } from './errors.js';
import type { Tree } from './snapshot-plan.js';

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The tree of `dir` (absolute), by path relative to it. */
export async function scanFolder(dir: string): Promise<Tree> {
  const tree: Tree = new Map();
  let top;
  try {
    top = await lstat(dir);
  } catch (error) {
    throw new PublishError(
      `cannot read the folder to publish, ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { hint: 'check --from (a folder on this machine, readable by this user)' },
    );
  }
  if (!top.isDirectory()) {
    throw new PublishError(`--from ${dir} is not a folder`, {
      hint: 'pass the folder whose content the instances should serve',
    });
  }
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    const full = rel ? path.join(dir, rel) : dir;
    let names: string[];
    try {
      names = await readdir(full);
    } catch (error) {
      throw unreadable(full, error);
    }
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      const child = path.join(full, name);
      if (name === '.git') {
        throw new PublishError(`${child}: a folder to publish may not hold .git`, {
          hint: 'publish a folder that is not a git checkout (or copy its files elsewhere first)',
        });
      }
      let stat;
      try {
        stat = await lstat(child);
      } catch (error) {
        throw unreadable(child, error);
      }
      if (stat.isDirectory()) {
        tree.set(childRel, { kind: 'dir' });
        pending.push(childRel);
      } else if (stat.isSymbolicLink()) {
        tree.set(childRel, { kind: 'symlink', target: await readlink(child) });
      } else if (stat.isFile()) {
        let sha256: string;
        try {
          sha256 = await sha256File(child);
        } catch (error) {
          throw unreadable(child, error);
        }
        tree.set(childRel, {
          kind: 'file',
          exec: (stat.mode & 0o100) !== 0,
          size: stat.size,
          sha256,
          source: child,
        });
      } else {
        throw new PublishError(
          `${child} is not a file, folder or symlink (a fifo, socket or device): a version holds none`,
          { hint: 'remove it from the folder to publish' },
        );
      }
    }
  }
  return tree;
}

function unreadable(file: string, error: unknown): PublishError {
  return new PublishError(
    `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    { hint: 'every file of the folder must be readable by the user running bootstrap publish' },
  );
}
