// Port mappings on a UPnP IGD that stay alive: AddPortMapping with a lease, renewed at half the
// lease; OnlyPermanentLeasesSupported (725) falls back to a permanent mapping (IGDv1 devices),
// ConflictInMappingEntry (718) moves on to the next external port, a bounded number of times.
// close() deletes every mapping this mapper made; reclaimStale() removes our own leftovers from
// an earlier run (found by description prefix) at boot.
import { SystemClock, TypedEmitter, type Clock, type TimerHandle } from '../../util/index.js';
import type { IgdControl, MappingProtocol, PortMappingEntry } from './igd-client.js';
import { IgdError, UPNP_ERROR, UpnpError } from './upnp-error.js';

export interface UpnpMapping {
  readonly protocol: MappingProtocol;
  readonly internalPort: number;
  readonly externalPort: number;
  /** The IGD's GetExternalIPAddress answer at the last add or renewal (may be private/reserved). */
  readonly externalAddress: string;
  /** The lease asked for and granted; 0 = permanent, not renewed. */
  readonly leaseS: number;
}

export type UpnpMapperEvents = {
  renewed: UpnpMapping;
  renewalFailed: { readonly mapping: UpnpMapping; readonly error: unknown };
  /** The mapping is gone (taken by another client, or its lease ran out while renewals failed). */
  lost: { readonly mapping: UpnpMapping; readonly error: unknown };
};

export interface UpnpMapperOptions {
  readonly igd: IgdControl;
  /** Our LAN address (see localAddressFor): mappings point here. */
  readonly internalClient: string;
  readonly clock?: Clock;
  /** Lease asked for. Default 3600 s. */
  readonly leaseS?: number;
  /** NewPortMappingDescription starts with this; reclaimStale() looks for it. */
  readonly descriptionPrefix?: string;
  /** External ports tried per map() when each is taken (718). Default 8. */
  readonly maxPortAttempts?: number;
  /** Entries read by reclaimStale() at most. Default 256. */
  readonly maxListEntries?: number;
  /** close() also calls this (for an IgdClient the mapper owns). */
  readonly onClose?: () => void;
  readonly onListenerError?: (err: unknown, event: string) => void;
}

interface Entry {
  mapping: UpnpMapping;
  expiresAtMs: number;
  timer: TimerHandle | undefined;
  renewing: Promise<void> | undefined;
}

const PORT_TAKEN: ReadonlySet<number> = new Set([UPNP_ERROR.ConflictInMappingEntry, UPNP_ERROR.ConflictWithOtherMechanisms]);
/** Below this much lease left, a failed renewal is not retried: the mapping is reported lost. */
const MIN_RETRY_MS = 1000;

export class UpnpMapper extends TypedEmitter<UpnpMapperEvents> {
  private readonly clock: Clock;
  private readonly leaseS: number;
  private readonly prefix: string;
  private readonly entries = new Map<string, Entry>();
  private permanentOnly = false;
  private closed = false;

  constructor(private readonly o: UpnpMapperOptions) {
    super(o.onListenerError);
    this.clock = o.clock ?? new SystemClock();
    this.leaseS = o.leaseS ?? 3600;
    this.prefix = o.descriptionPrefix ?? 'deskphone-agent';
  }

  /** Maps `externalPortHint` (default: the internal port) or, when taken, one of the next ports. */
  async map(internalPort: number, protocol: MappingProtocol, externalPortHint?: number): Promise<UpnpMapping> {
    this.assertOpen();
    for (const e of this.entries.values()) if (e.mapping.internalPort === internalPort && e.mapping.protocol === protocol) return e.mapping;
    const start = externalPortHint ?? internalPort;
    let lastConflict: unknown;
    for (let i = 0; i < (this.o.maxPortAttempts ?? 8); i++) {
      const externalPort = 1024 + ((start - 1024 + i) % (65536 - 1024));
      if (this.entries.has(key(protocol, externalPort))) continue;
      try {
        const leaseS = await this.add(internalPort, protocol, externalPort);
        const externalAddress = await this.o.igd.getExternalIpAddress();
        const mapping: UpnpMapping = { protocol, internalPort, externalPort, externalAddress, leaseS };
        if (this.closed) {
          await this.o.igd.deletePortMapping(externalPort, protocol).catch(() => {});
          this.assertOpen();
        }
        const entry: Entry = { mapping, expiresAtMs: this.clock.now() + leaseS * 1000, timer: undefined, renewing: undefined };
        this.entries.set(key(protocol, externalPort), entry);
        this.schedule(entry, (leaseS * 1000) / 2);
        return mapping;
      } catch (err) {
        if (!(err instanceof UpnpError && PORT_TAKEN.has(err.code))) throw err;
        lastConflict = err;
      }
    }
    throw new IgdError('no-free-port', `no free external ${protocol} port from ${start} in ${this.o.maxPortAttempts ?? 8} tries`, { cause: lastConflict });
  }

  /** Deletes one of our mappings; one the IGD no longer has (714) counts as deleted. */
  async unmap(mapping: Pick<UpnpMapping, 'externalPort' | 'protocol'>): Promise<void> {
    const { externalPort, protocol } = mapping;
    const entry = this.entries.get(key(protocol, externalPort));
    if (!entry) return;
    this.entries.delete(key(protocol, externalPort));
    this.clock.cancel(entry.timer);
    await entry.renewing;
    await this.delete(externalPort, protocol);
  }

  mappings(): UpnpMapping[] {
    return [...this.entries.values()].map((e) => e.mapping);
  }

  /**
   * Lists the IGD's mappings (GetGenericPortMappingEntry from index 0 until the IGD says 713) and
   * deletes those an earlier run of ours left: our description prefix and our internal client,
   * not one this mapper holds now. Returns what it deleted.
   */
  async reclaimStale(): Promise<PortMappingEntry[]> {
    this.assertOpen();
    const stale: PortMappingEntry[] = [];
    for (let index = 0; index < (this.o.maxListEntries ?? 256); index++) {
      let e: PortMappingEntry;
      try {
        e = await this.o.igd.getGenericPortMappingEntry(index);
      } catch (err) {
        if (err instanceof UpnpError) break; // 713 SpecifiedArrayIndexInvalid ends the list; others too
        throw err;
      }
      const ours = e.description.startsWith(this.prefix) && e.internalClient === this.o.internalClient;
      if (ours && !this.entries.has(key(e.protocol, e.externalPort))) stale.push(e);
    }
    for (const e of stale) await this.delete(e.externalPort, e.protocol);
    return stale;
  }

  /** Deletes every mapping this mapper made (best effort), then releases the IGD client if owned. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entries = [...this.entries.values()];
    this.entries.clear();
    for (const e of entries) this.clock.cancel(e.timer);
    await Promise.allSettled(entries.map(async (e) => {
      await e.renewing;
      await this.delete(e.mapping.externalPort, e.mapping.protocol);
    }));
    this.removeAll();
    this.o.onClose?.();
  }

  /** AddPortMapping with our lease; 725 switches this mapper to permanent mappings for good. */
  private async add(internalPort: number, protocol: MappingProtocol, externalPort: number): Promise<number> {
    const args = { externalPort, protocol, internalPort, internalClient: this.o.internalClient, description: `${this.prefix} ${protocol}/${internalPort}` };
    const leaseDurationS = this.permanentOnly ? 0 : this.leaseS;
    try {
      await this.o.igd.addPortMapping({ ...args, leaseDurationS });
      return leaseDurationS;
    } catch (err) {
      if (!(err instanceof UpnpError && err.code === UPNP_ERROR.OnlyPermanentLeasesSupported) || leaseDurationS === 0) throw err;
      this.permanentOnly = true;
      await this.o.igd.addPortMapping({ ...args, leaseDurationS: 0 });
      return 0;
    }
  }

  private async delete(externalPort: number, protocol: MappingProtocol): Promise<void> {
    try {
      await this.o.igd.deletePortMapping(externalPort, protocol);
    } catch (err) {
      if (!(err instanceof UpnpError && err.code === UPNP_ERROR.NoSuchEntryInArray)) throw err;
    }
  }

  private schedule(entry: Entry, delayMs: number): void {
    if (entry.mapping.leaseS === 0) return;
    entry.timer = this.clock.setTimer(delayMs, () => {
      entry.timer = undefined;
      entry.renewing = this.renew(entry).finally(() => (entry.renewing = undefined));
    });
  }

  private async renew(entry: Entry): Promise<void> {
    const { mapping } = entry;
    const k = key(mapping.protocol, mapping.externalPort);
    try {
      const leaseS = await this.add(mapping.internalPort, mapping.protocol, mapping.externalPort);
      const externalAddress = await this.o.igd.getExternalIpAddress();
      if (this.entries.get(k) !== entry) return;
      entry.mapping = { ...mapping, externalAddress, leaseS };
      entry.expiresAtMs = this.clock.now() + leaseS * 1000;
      this.schedule(entry, (leaseS * 1000) / 2);
      this.emit('renewed', entry.mapping);
    } catch (error) {
      if (this.entries.get(k) !== entry) return;
      const leftMs = entry.expiresAtMs - this.clock.now();
      const taken = error instanceof UpnpError && PORT_TAKEN.has(error.code);
      if (taken || leftMs / 2 < MIN_RETRY_MS) {
        this.entries.delete(k);
        this.emit('lost', { mapping, error });
        return;
      }
      this.emit('renewalFailed', { mapping, error });
      this.schedule(entry, leftMs / 2);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new IgdError('closed', 'UPnP mapper closed');
  }
}

function key(protocol: MappingProtocol, externalPort: number): string {
  return `${protocol}/${externalPort}`;
}
