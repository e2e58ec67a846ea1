// A tiny TCP proxy on 127.0.0.1 in front of a local server: counts the bytes each way, can cut a
// connection after N bytes from the server, and can stop and start listening on the same port
// (the host "goes down" and comes back). Used by the fault tests and the sync benchmark.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Bytes sent by clients to the server, and by the server to clients, since the last reset. */
  bytesUp: number;
  bytesDown: number;
  connections: number;
  /** When set, a connection is cut once the server has sent this many bytes on it. */
  cutAfter: number | undefined;
  resetCounters(): void;
  /** Stops listening and drops open connections (the host is down). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy from a free port on 127.0.0.1 to 127.0.0.1:targetPort. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const proxy: TcpProxy = {
    port: 0,
    bytesUp: 0,
    bytesDown: 0,
    connections: 0,
    cutAfter: undefined,
    resetCounters() {
      proxy.bytesUp = 0;
      proxy.bytesDown = 0;
      proxy.connections = 0;
    },
    async down() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    async up() {
      if (server) return;
      const s = net.createServer(handle);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
      port = (s.address() as net.AddressInfo).port;
      proxy.port = port;
    },
    close: () => proxy.down(),
  };
  function handle(client: net.Socket) {
    proxy.connections += 1;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let down = 0;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      proxy.bytesUp += d.length;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      const limit = proxy.cutAfter;
      if (limit !== undefined && down + d.length > limit) {
        const part = d.subarray(0, Math.max(0, limit - down));
        proxy.bytesDown += part.length;
        client.write(part, cut);
        down = limit;
        return;
      }
      down += d.length;
      proxy.bytesDown += d.length;
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const forget = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      cut();
    };
    client.on('error', forget);
    upstream.on('error', forget);
    client.on('close', forget);
    upstream.on('close', forget);
  }
  await proxy.up();
  return proxy;
}
