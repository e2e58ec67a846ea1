// A free TCP port on 127.0.0.1: for the service the agent starts and proxies to, and for tests and
// benchmarks that start servers.
import net from 'node:net';

/** Asks the kernel for a loopback port nothing listens on right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
