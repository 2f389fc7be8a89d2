import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';

export type Mode = 'up' | 'refuse' | 'blackhole';

/**
 * A TCP proxy in front of Postgres: `refuse` resets every connection, `blackhole` accepts and never answers;
 * `freeze()` makes live connections go silent without closing (a partition no socket notices).
 */
export async function createOutageProxy(target: URL) {
  const sockets = new Set<Socket>();
  const pairs = new Set<[Socket, Socket]>();
  let mode: Mode = 'up';
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createTcpServer((client) => {
    track(client);
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'blackhole') return;
    const upstream = connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    /** The current mode. */
    get state(): Mode {
      return mode;
    },
    set(next: Mode) {
      mode = next;
      // Going down also kills live connections, as a crashed or restarted server would.
      if (next !== 'up') for (const socket of sockets) socket.destroy();
    },
    /** Stop forwarding on live connections without closing them; new ones are accepted and never answered. */
    freeze() {
      mode = 'blackhole';
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
