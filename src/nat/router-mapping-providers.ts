// The port manager's providers for routers that map ports on request: UPnP IGD and PCP/NAT-PMP.
// The router is found once (lazily, on the first mapping asked for) and a failed search is
// remembered for a while so every call does not wait for SSDP again; mappings are renewed by
// the mappers and deleted when a socket is released and at shutdown, and our own stale
// mappings from before a crash or power cut are reclaimed when the IGD is first found.
import type { MappingProvider } from './mapping-provider.js';
import { openPortControlMapper, type PortControlMapper, type PortControlMapping } from './pcp/index.js';
import type { MappingRequest, PortMapping, SocketKind, TransportAddress } from './port-manager.js';
import { openUpnpMapper, type UpnpMapper, type UpnpMapping } from './upnp/index.js';
import type { Clock } from '../util/index.js';

export interface RouterMappingSettings {
  readonly enabled: boolean;
  /** Lease/lifetime asked for (s); renewed at half. */
  readonly leaseS: number;
}

/** How long a router that did not answer is left alone before we look for it again. */
const RETRY_SEARCH_MS = 60_000;

const key = (kind: SocketKind, local: TransportAddress) => `${kind}|${local.address}|${local.port}`;

/** What both mappers (UpnpMapper, PortControlMapper) offer: map, renew by themselves, unmap, close. */
interface RouterMapper<R> {
  map(internalPort: number, protocol: 'udp' | 'tcp', externalPortHint?: number): Promise<R>;
  unmap(mapping: R): Promise<void>;
  close(): Promise<void>;
}

/** A mapping either router gave: the public address and port it forwards to us. */
interface RouterMapping {
  readonly externalAddress: string;
  readonly externalPort: number;
}

abstract class RouterProvider<M extends RouterMapper<R>, R extends RouterMapping> implements MappingProvider {
  abstract readonly name: PortMapping['via'];
  private opened: Promise<M | undefined> | undefined;
  private failedAtMs: number | undefined;
  private readonly mine = new Map<string, R>();

  constructor(
    protected readonly settings: () => RouterMappingSettings,
    protected readonly clock: Clock,
    private readonly onError: (err: unknown, context: string) => void,
  ) {}

  /** Finds the router and opens its mapper (the only per-protocol step). */
  protected abstract open(): Promise<M>;

  private mapper(): Promise<M | undefined> {
    if (this.failedAtMs !== undefined && this.clock.now() - this.failedAtMs < RETRY_SEARCH_MS) return Promise.resolve(undefined);
    this.opened ??= this.open().then(
      (m) => m,
      (err: unknown) => {
        this.onError(err, `${this.name}: no router answered`);
        this.failedAtMs = this.clock.now();
        this.opened = undefined;
        return undefined;
      },
    );
    return this.opened;
  }

  async map(req: MappingRequest): Promise<PortMapping | undefined> {
    if (!this.settings().enabled) return undefined;
    const m = await this.mapper();
    if (!m) return undefined;
    const r = await m.map(req.local.port, 'udp', req.local.port);
    this.mine.set(key(req.kind, req.local), r);
    return { address: r.externalAddress, port: r.externalPort, via: this.name };
  }

  async release(kind: SocketKind, local: TransportAddress): Promise<void> {
    const k = key(kind, local);
    const r = this.mine.get(k);
    this.mine.delete(k);
    const m = this.opened ? await this.opened : undefined;
    if (r !== undefined && m) await m.unmap(r).catch((err: unknown) => this.onError(err, `${this.name}: delete mapping`));
  }

  async close(): Promise<void> {
    const m = this.opened ? await this.opened : undefined;
    this.mine.clear();
    if (m) await m.close();
  }
}

/** UPnP IGD (WANIPConnection/WANPPPConnection v1/v2). */
export class UpnpProvider extends RouterProvider<UpnpMapper, UpnpMapping> {
  readonly name = 'upnp' as const;

  protected async open(): Promise<UpnpMapper> {
    const { mapper } = await openUpnpMapper({ discovery: { timeoutMs: 2000 }, mapper: { leaseS: this.settings().leaseS, clock: this.clock } });
    await mapper.reclaimStale().catch(() => []);
    return mapper;
  }
}

/** PCP (RFC 6887), falling back to NAT-PMP (RFC 6886), at the default gateway. */
export class PcpProvider extends RouterProvider<PortControlMapper, PortControlMapping> {
  readonly name = 'pcp' as const;

  protected async open(): Promise<PortControlMapper> {
    const { mapper } = await openPortControlMapper({ mapper: { lifetimeS: this.settings().leaseS, clock: this.clock } });
    return mapper;
  }
}
