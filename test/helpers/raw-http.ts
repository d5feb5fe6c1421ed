import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** The status line and headers, as sent. */
  head: string;
  body: string;
}

export interface RawExchange {
  socket: Socket;
  /** The first answer on the socket; rejects with the socket's error code (or 'closed') if none came. */
  answer: Promise<RawAnswer>;
  /** Resolves when the socket has closed, with the error that closed it, if any (e.g. ECONNRESET). */
  closed: Promise<string | undefined>;
}

/**
 * Opens a socket (from `from`, a local address such as 127.0.0.5) and writes `bytes` on it: requests
 * exactly as a hostile or careless client would send them, and the answer exactly as it arrives,
 * so a reset is told apart from an HTTP answer.
 */
export function rawRequest(port: number, bytes: string, from?: string): RawExchange {
  const socket = connect({ port, host: '127.0.0.1', ...(from ? { localAddress: from } : {}) });
  socket.setNoDelay(true);
  let error: string | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
  if (bytes) socket.write(bytes);
  const closed = new Promise<string | undefined>((resolve) => socket.once('close', () => resolve(error)));
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.slice(0, end);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length - end - 4 < length) return;
      resolve({ status: Number(head.split(' ')[1]), head, body: data.slice(end + 4, end + 4 + length) });
    });
    void closed.then((code) => reject(new Error(code ?? 'closed')));
  });
  answer.catch(() => {});
  return { socket, answer, closed };
}

/** A booking request, whole or (withBody false) with its body held back. */
export function bookingBytes(eventId: string, withBody = true): string {
  const body = '{"tickets":1}';
  return (
    `POST /events/${eventId}/bookings HTTP/1.1\r\nHost: boxoffice\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${withBody ? body : ''}`
  );
}

/** The value of one header in a raw head, or undefined. */
export function header(head: string, name: string): string | undefined {
  return new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(head)?.[1];
}
