// A UDP relay that impairs one direction of a flow, for lab tests on a kernel without sch_netem
// (LAB-NOTES.md "Impairment"). It listens on one socket and knows one target:
//
//   client ──▶ relay (listen) ──[loss, delay, reorder, duplicate]──▶ target
//   client ◀── relay (listen) ◀──────────── at once ─────────────── target
//
// The client is whoever last sent from anywhere but the target, so a peer that latches onto the
// relay's address (symmetric RTP, RFC 4961) gets its packets back through it. Toward the target
// each datagram's fate comes from the seeded ImpairmentModel; copies wait in a bounded queue
// (full: the datagram is dropped and counted as overflow) and leave from the listen socket, so the
// target sees the relay's address and port as the source. `impairs` may exempt datagrams (RTCP,
// say) which are then forwarded at once without drawing from the model. close() cancels what is
// still queued and closes the socket.
import { createSocket, type Socket } from 'node:dgram';
import { ImpairmentModel, type ImpairmentSpec } from './impairment-model.js';

export interface RelayAddress {
  readonly address: string;
  readonly port: number;
}

export interface UdpImpairmentRelayOptions {
  /** Where to listen; port 0 picks one. */
  readonly listen: RelayAddress;
  readonly target: RelayAddress;
  readonly impairment: ImpairmentSpec;
  /** Most copies waiting for their delay; default 512. */
  readonly maxQueued?: number;
  /** Which datagrams toward the target the model applies to; default all. */
  readonly impairs?: (datagram: Uint8Array) => boolean;
}

export interface UdpImpairmentRelayStats {
  /** Datagrams from the client side, toward the target. */
  readonly fromClient: number;
  /** Of those, the ones the model decided on. */
  readonly impaired: number;
  /** Lost by the model's draw. */
  readonly dropped: number;
  /** Lost because the queue was full. */
  readonly overflow: number;
  /** Extra copies the model asked for. */
  readonly duplicated: number;
  /** Copies sent to the target after their delay. */
  readonly delayed: number;
  /** Delayed copies sent after a copy of a datagram that arrived later. */
  readonly reordered: number;
  /** Datagrams the model did not apply to, sent at once. */
  readonly passed: number;
  /** Datagrams from the target sent back to the client. */
  readonly returned: number;
  /** Datagrams from the target before any client was known: nowhere to send them. */
  readonly unroutable: number;
  /** Copies still queued when the relay closed. */
  readonly cancelled: number;
  readonly sendErrors: number;
  /** Mean and largest delay given to a delivered copy. */
  readonly meanDelayMs: number;
  readonly maxDelayMs: number;
  /** Most copies queued at once. */
  readonly maxQueued: number;
}

type Counters = { -readonly [K in keyof UdpImpairmentRelayStats]: number };

export class UdpImpairmentRelay {
  private readonly model: ImpairmentModel;
  private readonly maxQueued: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private client: RelayAddress | undefined;
  /** Index of the next impaired datagram in arrival order, and the highest one sent so far. */
  private arrivalIndex = 0;
  private highestSentIndex = -1;
  private delaySumMs = 0;
  private closed = false;
  private readonly counts: Counters = {
    fromClient: 0, impaired: 0, dropped: 0, overflow: 0, duplicated: 0, delayed: 0, reordered: 0, passed: 0,
    returned: 0, unroutable: 0, cancelled: 0, sendErrors: 0, meanDelayMs: 0, maxDelayMs: 0, maxQueued: 0,
  };

  private constructor(
    private readonly socket: Socket,
    private readonly opts: UdpImpairmentRelayOptions,
  ) {
    this.model = new ImpairmentModel(opts.impairment);
    this.maxQueued = opts.maxQueued ?? 512;
    if (!(Number.isInteger(this.maxQueued) && this.maxQueued >= 1)) throw new RangeError(`maxQueued must be an integer ≥ 1, got ${this.maxQueued}`);
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, { address: rinfo.address, port: rinfo.port }));
  }

  static async start(opts: UdpImpairmentRelayOptions): Promise<UdpImpairmentRelay> {
    const socket = createSocket(opts.listen.address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.listen.port, opts.listen.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A send to a closed port comes back as an ICMP error on some sends: count it, keep relaying.
    const relay = new UdpImpairmentRelay(socket, opts);
    socket.on('error', () => relay.counts.sendErrors++);
    return relay;
  }

  /** The listen socket's address: what peers send to. */
  get address(): RelayAddress {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  get stats(): UdpImpairmentRelayStats {
    return { ...this.counts, meanDelayMs: this.counts.delayed > 0 ? this.delaySumMs / this.counts.delayed : 0 };
  }

  get queued(): number {
    return this.timers.size;
  }

  /** Cancels what is queued, closes the socket; the final statistics. Idempotent. */
  async close(): Promise<UdpImpairmentRelayStats> {
    if (!this.closed) {
      this.closed = true;
      this.counts.cancelled += this.timers.size;
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      await new Promise<void>((resolve) => this.socket.close(() => resolve()));
    }
    return this.stats;
  }

  private onDatagram(msg: Buffer, from: RelayAddress): void {
    if (this.closed) return;
    const target = this.opts.target;
    if (from.address === target.address && from.port === target.port) {
      if (!this.client) {
        this.counts.unroutable++;
        return;
      }
      this.counts.returned++;
      this.send(msg, this.client);
      return;
    }
    this.client = from;
    this.counts.fromClient++;
    if (this.opts.impairs && !this.opts.impairs(msg)) {
      this.counts.passed++;
      this.send(msg, target);
      return;
    }
    this.counts.impaired++;
    const index = this.arrivalIndex++;
    const fate = this.model.next();
    if (fate.kind === 'drop') {
      this.counts.dropped++;
      return;
    }
    this.counts.duplicated += fate.delaysMs.length - 1;
    for (const delayMs of fate.delaysMs) {
      if (this.timers.size >= this.maxQueued) {
        this.counts.overflow++;
        continue;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.deliver(msg, index, delayMs);
      }, delayMs);
      this.timers.add(timer);
      this.counts.maxQueued = Math.max(this.counts.maxQueued, this.timers.size);
    }
  }

  private deliver(msg: Buffer, index: number, delayMs: number): void {
    if (index < this.highestSentIndex) this.counts.reordered++;
    this.highestSentIndex = Math.max(this.highestSentIndex, index);
    this.counts.delayed++;
    this.delaySumMs += delayMs;
    this.counts.maxDelayMs = Math.max(this.counts.maxDelayMs, delayMs);
    this.send(msg, this.opts.target);
  }

  private send(msg: Buffer, to: RelayAddress): void {
    this.socket.send(msg, to.port, to.address, (err) => {
      if (err) this.counts.sendErrors++;
    });
  }
}

/**
 * RTP, not RTCP, by the first two bytes (RFC 5761 §4: on a multiplexed port, RTCP packet types
 * 192–223 sit where RTP's marker bit and payload type would be 64–95, which audio never uses).
 */
export function isRtp(datagram: Uint8Array): boolean {
  if (datagram.length < 12 || ((datagram[0] as number) >> 6) !== 2) return false;
  const pt = datagram[1] as number;
  return pt < 192 || pt > 223;
}

/** The statistics of several relays (the ports of one forwarded range) as one. */
export function sumRelayStats(all: readonly UdpImpairmentRelayStats[]): UdpImpairmentRelayStats {
  if (all.length === 0) throw new RangeError('no statistics to sum');
  const sum = { ...all[0] } as Counters;
  for (const s of all.slice(1)) {
    for (const k of Object.keys(sum) as Array<keyof Counters>) {
      if (k === 'meanDelayMs' || k === 'maxDelayMs' || k === 'maxQueued') continue;
      sum[k] += s[k];
    }
    sum.maxDelayMs = Math.max(sum.maxDelayMs, s.maxDelayMs);
    sum.maxQueued = Math.max(sum.maxQueued, s.maxQueued);
  }
  sum.meanDelayMs = sum.delayed > 0 ? all.reduce((a, s) => a + s.meanDelayMs * s.delayed, 0) / sum.delayed : 0;
  return sum;
}
