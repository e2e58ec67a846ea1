// A TCP proxy on 127.0.0.1 that can stop a client mid-conversation: on connections opened while a
// marker is set, the client's bytes are passed on up to the marker ("command=fetch" of a git fetch,
// "PACK" of a git push) and held from there, until released or dropped. It stands for a slow or
// stalled network at exactly the moment a test needs (an agent between ls-remote and fetch, a
// publisher in the middle of its push).
import net from 'node:net';
import type { TestContext } from 'node:test';

export interface HoldProxy {
  port: number;
  /** Connections opened from now on are held at `marker` (undefined: passed through). */
  holdAt(marker: string | undefined): void;
  /** Resolves once a connection is held. */
  held(): Promise<void>;
  /** Lets every held connection go on. */
  release(): void;
  /** Cuts every held connection, both ends. */
  drop(): void;
}

interface Held {
  pending: Buffer[];
  holding: boolean;
  /** Held once and released: passed through from then on. */
  released: boolean;
  /** The client finished sending while held: end the upstream once released. */
  ended: boolean;
  client: net.Socket;
  upstream: net.Socket;
}

/** Starts a proxy to 127.0.0.1:targetPort; it stops after the test. */
export async function startHoldProxy(
  t: Pick<TestContext, 'after'>,
  targetPort: number,
): Promise<HoldProxy> {
  let marker: string | undefined;
  const connections = new Set<Held>();
  let onHeld: (() => void) | undefined;
  let heldOnce = false;

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const mine = marker;
    const conn: Held = {
      pending: [],
      holding: false,
      released: false,
      ended: false,
      client,
      upstream,
    };
    connections.add(conn);
    let seen = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (conn.holding) {
        conn.pending.push(chunk);
        return;
      }
      if (mine === undefined || conn.released) {
        upstream.write(chunk);
        return;
      }
      // Look for the marker in what came so far (it may straddle chunks).
      const before = seen.length;
      seen = Buffer.concat([seen, chunk]);
      const at = seen.indexOf(mine);
      if (at < 0) {
        upstream.write(chunk);
        return;
      }
      const split = Math.max(0, at - before);
      if (split > 0) upstream.write(chunk.subarray(0, split));
      conn.pending.push(chunk.subarray(split));
      conn.holding = true;
      heldOnce = true;
      onHeld?.();
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      connections.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('end', () => (conn.holding ? (conn.ended = true) : upstream.end()));
    upstream.on('end', () => client.end());
    client.on('error', end);
    upstream.on('error', end);
    // A client that goes away (killed) takes its connection with it, held or not.
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const drop = () => {
    for (const c of connections) {
      c.client.destroy();
      c.upstream.destroy();
    }
    connections.clear();
  };
  t.after(
    () =>
      new Promise<void>((resolve) => {
        drop();
        server.close(() => resolve());
      }),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    holdAt(next) {
      marker = next;
      heldOnce = false;
    },
    held: () =>
      new Promise<void>((resolve) => {
        if (heldOnce) resolve();
        else onHeld = resolve;
      }),
    release() {
      for (const c of connections) {
        if (!c.holding) continue;
        c.holding = false;
        c.released = true;
        for (const chunk of c.pending) c.upstream.write(chunk);
        c.pending = [];
        if (c.ended) c.upstream.end();
      }
    },
    drop,
  };
}
