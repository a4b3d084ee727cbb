import { createServer } from 'node:net';

/**
 * Ask the OS for a free TCP port on 127.0.0.1 (bind port 0, read it, close). For servers that
 * cannot bind port 0 themselves (DynamoDB Local); the caller retries if another process grabs the
 * port in between.
 */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
