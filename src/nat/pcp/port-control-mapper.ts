// Port mappings by PCP or NAT-PMP that stay alive: renewed at half the granted lifetime (RFC 6886
// §3.3, RFC 6887 §11.2.1) with the same nonce and the port we were given, re-created at once when
// the server's epoch says it lost its state (RFC 6887 §8.5), deleted with lifetime 0 on unmap and
// close (RFC 6887 §15, RFC 6886 §3.4).
import { SystemClock, TypedEmitter, type Clock, type TimerHandle } from '../../util/index.js';
import { epochLostState, type EpochSample } from './epoch.js';
import type { PcpProtocol } from './pcp-codec.js';
import type { PortControlMapResult, PortControlTransport } from './port-control-client.js';
import { PortControlError } from './port-control-error.js';

/** A mapping as the mapper keeps it: the server's answer without the per-answer bookkeeping. */
export type PortControlMapping = Omit<PortControlMapResult, 'epochS' | 'receivedAtMs' | 'nonce'>;

export type PortControlMapperEvents = {
  renewed: PortControlMapping;
  renewalFailed: { readonly mapping: PortControlMapping; readonly error: unknown };
  lost: { readonly mapping: PortControlMapping; readonly error: unknown };
  /** The epoch check failed: every mapping is being re-created. */
  serverLostState: { readonly epochS: number };
};

export interface PortControlMapperOptions {
  readonly client: PortControlTransport;
  readonly clock?: Clock;
  /** Lifetime asked for. Default 7200 s (RFC 6886 §3.3's recommendation). */
  readonly lifetimeS?: number;
  readonly onClose?: () => void;
  readonly onListenerError?: (err: unknown, event: string) => void;
}

interface Entry {
  mapping: PortControlMapping;
  nonce: Uint8Array | undefined;
  expiresAtMs: number;
  timer: TimerHandle | undefined;
  renewing: Promise<void> | undefined;
}

const MIN_RETRY_MS = 1000;

export class PortControlMapper extends TypedEmitter<PortControlMapperEvents> {
  private readonly clock: Clock;
  private readonly lifetimeS: number;
  private readonly entries = new Map<string, Entry>();
  private lastEpoch: EpochSample | undefined;
  private closed = false;

  constructor(private readonly o: PortControlMapperOptions) {
    super(o.onListenerError);
    this.clock = o.clock ?? new SystemClock();
    this.lifetimeS = o.lifetimeS ?? 7200;
  }

  async map(internalPort: number, protocol: PcpProtocol, externalPortHint?: number): Promise<PortControlMapping> {
    this.assertOpen();
    const existing = this.entries.get(key(protocol, internalPort));
    if (existing) return existing.mapping;
    const r = await this.o.client.map({ protocol, internalPort, suggestedExternalPort: externalPortHint ?? internalPort, lifetimeS: this.lifetimeS });
    if (r.lifetimeS === 0) throw new PortControlError('malformed', 'the server granted a lifetime of 0', { protocol: r.via });
    if (this.closed) {
      await this.o.client.map({ protocol, internalPort, lifetimeS: 0, ...(r.nonce ? { nonce: r.nonce } : {}) }).catch(() => {});
      this.assertOpen();
    }
    const entry: Entry = { mapping: toMapping(r), nonce: r.nonce, expiresAtMs: r.receivedAtMs + r.lifetimeS * 1000, timer: undefined, renewing: undefined };
    this.entries.set(key(protocol, internalPort), entry);
    this.schedule(entry, (r.lifetimeS * 1000) / 2);
    this.noteEpoch(r, entry);
    return entry.mapping;
  }

  async unmap(mapping: Pick<PortControlMapping, 'internalPort' | 'protocol'>): Promise<void> {
    const k = key(mapping.protocol, mapping.internalPort);
    const entry = this.entries.get(k);
    if (!entry) return;
    this.entries.delete(k);
    this.clock.cancel(entry.timer);
    await entry.renewing;
    await this.delete(entry);
  }

  mappings(): PortControlMapping[] {
    return [...this.entries.values()].map((e) => e.mapping);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) this.clock.cancel(e.timer);
    await Promise.allSettled(entries.map(async (e) => {
      await e.renewing;
      await this.delete(e);
    }));
    this.removeAll();
    this.o.onClose?.();
  }

  private delete(e: Entry): Promise<PortControlMapResult> {
    return this.o.client.map({ protocol: e.mapping.protocol, internalPort: e.mapping.internalPort, lifetimeS: 0, ...(e.nonce ? { nonce: e.nonce } : {}) });
  }

  private schedule(entry: Entry, delayMs: number): void {
    this.clock.cancel(entry.timer);
    entry.timer = this.clock.setTimer(delayMs, () => {
      entry.timer = undefined;
      if (entry.renewing) return;
      entry.renewing = this.renew(entry).finally(() => (entry.renewing = undefined));
    });
  }

  private async renew(entry: Entry): Promise<void> {
    const { mapping } = entry;
    const k = key(mapping.protocol, mapping.internalPort);
    try {
      const r = await this.o.client.map({
        protocol: mapping.protocol,
        internalPort: mapping.internalPort,
        suggestedExternalPort: mapping.externalPort,
        lifetimeS: this.lifetimeS,
        ...(entry.nonce ? { nonce: entry.nonce } : {}),
      });
      if (this.entries.get(k) !== entry) return;
      if (r.lifetimeS === 0) throw new PortControlError('malformed', 'the server granted a lifetime of 0', { protocol: r.via });
      entry.mapping = toMapping(r);
      entry.nonce = r.nonce;
      entry.expiresAtMs = r.receivedAtMs + r.lifetimeS * 1000;
      this.schedule(entry, (r.lifetimeS * 1000) / 2);
      this.emit('renewed', entry.mapping);
      this.noteEpoch(r, entry);
    } catch (error) {
      if (this.entries.get(k) !== entry) return;
      const leftMs = entry.expiresAtMs - this.clock.now();
      if (leftMs / 2 < MIN_RETRY_MS) {
        this.entries.delete(k);
        this.emit('lost', { mapping, error });
        return;
      }
      this.emit('renewalFailed', { mapping, error });
      this.schedule(entry, leftMs / 2);
    }
  }

  /** RFC 6887 §8.5: on a failed epoch check, renew every other mapping now. */
  private noteEpoch(r: PortControlMapResult, from: Entry): void {
    const sample = { epochS: r.epochS, clientMs: r.receivedAtMs };
    const lost = epochLostState(this.lastEpoch, sample);
    this.lastEpoch = sample;
    if (!lost) return;
    this.emit('serverLostState', { epochS: r.epochS });
    for (const e of this.entries.values()) if (e !== from) this.schedule(e, 0);
  }

  private assertOpen(): void {
    if (this.closed) throw new PortControlError('closed', 'port control mapper closed');
  }
}

function toMapping(r: PortControlMapResult): PortControlMapping {
  return { via: r.via, protocol: r.protocol, internalPort: r.internalPort, externalPort: r.externalPort, externalAddress: r.externalAddress, lifetimeS: r.lifetimeS };
}

function key(protocol: PcpProtocol, internalPort: number): string {
  return `${protocol}/${internalPort}`;
}
