import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/** What one {@link HoldingProxy.hold} caught. */
export interface Held {
  /** Resolves once the server's held bytes include a ReadyForQuery: the answer is complete, unseen by pg. */
  answered: Promise<void>;
  /** Resolves after the backend closed and everything held went to the client in one write. */
  delivered: Promise<void>;
  /** Type bytes of the held messages, in order ('Z' ReadyForQuery, 'E' ErrorResponse, …). */
  types: string[];
}

export interface HoldingProxy {
  url: string;
  /**
   * From now on, keep whatever the server sends (call it while the connection is idle, so the held bytes
   * start at a message boundary); when the server closes the connection, hand it all to the client in a
   * single write and close. The client then parses the held answer and the FATAL in one chunk.
   */
  hold(): Held;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of Postgres (one connection at a time is all the tests need). */
export async function createHoldingProxy(target: string): Promise<HoldingProxy> {
  const sockets = new Set<Socket>();
  let holding: { chunks: Buffer[]; held: Held; onAnswered: () => void; onDelivered: () => void } | undefined;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    const upstream = connect(Number(new URL(target).port || 5432), new URL(target).hostname);
    track(upstream);
    client.pipe(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('data', (chunk: Buffer) => {
      if (holding === undefined) {
        client.write(chunk);
        return;
      }
      holding.chunks.push(chunk);
      const bytes = Buffer.concat(holding.chunks);
      const types: string[] = [];
      for (let at = 0; at + 5 <= bytes.length; at += 1 + bytes.readInt32BE(at + 1)) {
        types.push(String.fromCharCode(bytes[at] as number));
      }
      holding.held.types.splice(0, Infinity, ...types);
      if (types.includes('Z')) holding.onAnswered();
    });
    upstream.on('end', () => {
      const caught = holding;
      if (caught === undefined) {
        client.end();
        return;
      }
      holding = undefined;
      client.end(Buffer.concat(caught.chunks), caught.onDelivered);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    hold() {
      let onAnswered = () => {};
      let onDelivered = () => {};
      const held: Held = {
        answered: new Promise<void>((resolve) => {
          onAnswered = resolve;
        }),
        delivered: new Promise<void>((resolve) => {
          onDelivered = resolve;
        }),
        types: [],
      };
      holding = { chunks: [], held, onAnswered, onDelivered };
      return held;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
