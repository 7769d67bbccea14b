// One TCP or TLS connection carrying SIP: framing (RFC 3261 §18.3), CRLF keepalives
// (RFC 5626 §4.4.1: answer a ping with a pong), idle timeout, and a bounded buffer.
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { SipParseError, StreamFramer, type FramedItem, type ParseLimits } from '../message/index.js';

export interface ConnectionEvents {
  onItem(conn: StreamConnection, item: FramedItem): void;
  onClose(conn: StreamConnection, err?: Error): void;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

export class StreamConnection {
  private readonly framer: StreamFramer;
  private idleTimer: TimerHandle | undefined;
  private readonly pongWaiters: Array<{ pong(): void; fail(err: Error): void }> = [];
  private closed = false;

  constructor(
    readonly id: string,
    readonly transport: 'TCP' | 'TLS',
    readonly socket: Socket,
    readonly remote: { address: string; port: number },
    private readonly clock: Clock,
    private readonly idleMs: number,
    limits: Partial<ParseLimits>,
    private readonly events: ConnectionEvents,
  ) {
    this.framer = new StreamFramer(limits);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close());
    this.touch();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private touch(): void {
    this.clock.cancel(this.idleTimer);
    this.idleTimer = this.clock.setTimer(this.idleMs, () => this.close(new Error('idle timeout')));
  }

  private onData(chunk: Buffer): void {
    this.touch();
    let items: FramedItem[];
    try {
      items = this.framer.push(chunk);
    } catch (err) {
      // Framing lost (bad Content-Length, oversize): the stream cannot be resynchronised.
      this.close(err instanceof SipParseError ? err : new Error(String(err)));
      return;
    }
    for (const item of items) {
      if (item.kind === 'keepalive') {
        if (!item.pong) this.socket.write(CRLF);
        else for (const w of this.pongWaiters.splice(0)) w.pong();
        continue;
      }
      this.events.onItem(this, item);
      if (this.closed) return;
    }
  }

  write(bytes: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    this.touch();
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** RFC 5626 §4.4.1: sends CRLFCRLF and resolves when the CRLF pong comes back. */
  ping(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimer(timeoutMs, () => {
        const i = this.pongWaiters.indexOf(waiter);
        if (i >= 0) this.pongWaiters.splice(i, 1);
        reject(new Error('no pong'));
      });
      const waiter = {
        pong: (): void => {
          this.clock.cancel(timer);
          resolve();
        },
        fail: (err: Error): void => {
          this.clock.cancel(timer);
          reject(err);
        },
      };
      this.pongWaiters.push(waiter);
      this.write(CRLFCRLF).catch((err: unknown) => {
        this.clock.cancel(timer);
        reject(err as Error);
      });
    });
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.cancel(this.idleTimer);
    this.socket.destroy();
    // No pong can come on a closed connection: a ping fails now, not at its timeout.
    for (const w of this.pongWaiters.splice(0)) w.fail(new Error(`connection closed${err ? `: ${err.message}` : ''}`));
    this.events.onClose(this, err);
  }
}
