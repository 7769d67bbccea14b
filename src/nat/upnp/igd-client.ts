// SOAP actions of an IGD's WANIPConnection/WANPPPConnection service (UPnP IGD WANIPConnection:2
// §2.4): external address, add/delete/look up port mappings. One HTTP POST per action, bounded in
// time and size; faults come back as UpnpError with the UPnP errorCode.
import { isIP } from 'node:net';
import { boundedFetch } from './bounded-http.js';
import type { IgdService } from './igd-description.js';
import { buildSoapRequest, parseSoapResponse, soapActionHeader, type SoapArgs } from './soap.js';
import { IgdError } from './upnp-error.js';

export type MappingProtocol = 'udp' | 'tcp';

export interface AddPortMappingArgs {
  readonly externalPort: number;
  readonly protocol: MappingProtocol;
  readonly internalPort: number;
  /** Our own LAN address: IGDs in secure mode refuse any other (miniupnpd's secure_mode). */
  readonly internalClient: string;
  readonly description: string;
  /** 0 asks for a permanent mapping (IGDv1) or the IGD's maximum (IGDv2: one week). */
  readonly leaseDurationS: number;
}

export interface PortMappingEntry {
  readonly remoteHost: string;
  readonly externalPort: number;
  readonly protocol: MappingProtocol;
  readonly internalPort: number;
  readonly internalClient: string;
  readonly enabled: boolean;
  readonly description: string;
  readonly leaseDurationS: number;
}

/** What the mapper needs from an IGD; IgdClient is the real one, tests give a fake. */
export interface IgdControl {
  getExternalIpAddress(): Promise<string>;
  addPortMapping(args: AddPortMappingArgs): Promise<void>;
  deletePortMapping(externalPort: number, protocol: MappingProtocol): Promise<void>;
  getSpecificPortMappingEntry(externalPort: number, protocol: MappingProtocol): Promise<PortMappingEntry>;
  getGenericPortMappingEntry(index: number): Promise<PortMappingEntry>;
}

export interface IgdClientOptions {
  readonly timeoutMs?: number;
  readonly maxResponseBytes?: number;
}

const MAX_LEASE_S = 0xffffffff;
const MAX_DESCRIPTION_CHARS = 256;

export class IgdClient implements IgdControl {
  private readonly closing = new AbortController();
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;

  constructor(
    readonly service: IgdService,
    o: IgdClientOptions = {},
  ) {
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.maxResponseBytes = o.maxResponseBytes ?? 16 * 1024;
  }

  async getExternalIpAddress(): Promise<string> {
    const out = await this.call('GetExternalIPAddress', []);
    const ip = out.get('NewExternalIPAddress')?.trim() ?? '';
    // An IGD behind another NAT reports a private or reserved address: report it, don't refuse it.
    if (isIP(ip) === 0) throw new IgdError('malformed', `GetExternalIPAddress: not an IP address: ${ip.slice(0, 60)}`);
    return ip;
  }

  async addPortMapping(a: AddPortMappingArgs): Promise<void> {
    if (isIP(a.internalClient) === 0) throw new IgdError('malformed', `internal client ${a.internalClient} is not an IP address`);
    if (!Number.isInteger(a.leaseDurationS) || a.leaseDurationS < 0 || a.leaseDurationS > MAX_LEASE_S) throw new IgdError('malformed', 'bad lease duration');
    await this.call('AddPortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', checkPort(a.externalPort)],
      ['NewProtocol', a.protocol.toUpperCase()],
      ['NewInternalPort', checkPort(a.internalPort)],
      ['NewInternalClient', a.internalClient],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', a.description.slice(0, MAX_DESCRIPTION_CHARS)],
      ['NewLeaseDuration', a.leaseDurationS],
    ]);
  }

  async deletePortMapping(externalPort: number, protocol: MappingProtocol): Promise<void> {
    await this.call('DeletePortMapping', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', checkPort(externalPort)],
      ['NewProtocol', protocol.toUpperCase()],
    ]);
  }

  async getSpecificPortMappingEntry(externalPort: number, protocol: MappingProtocol): Promise<PortMappingEntry> {
    const out = await this.call('GetSpecificPortMappingEntry', [
      ['NewRemoteHost', ''],
      ['NewExternalPort', checkPort(externalPort)],
      ['NewProtocol', protocol.toUpperCase()],
    ]);
    return toEntry(out, { remoteHost: '', externalPort, protocol });
  }

  async getGenericPortMappingEntry(index: number): Promise<PortMappingEntry> {
    if (!Number.isInteger(index) || index < 0 || index > 0xffff) throw new IgdError('malformed', 'bad port mapping index');
    return toEntry(await this.call('GetGenericPortMappingEntry', [['NewPortMappingIndex', index]]), {});
  }

  /** Aborts requests in flight; later calls fail with IgdError('closed'). */
  close(): void {
    this.closing.abort();
  }

  private async call(action: string, args: SoapArgs): Promise<Map<string, string>> {
    if (this.closing.signal.aborted) throw new IgdError('closed', 'UPnP client closed');
    const res = await boundedFetch(this.service.controlUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/xml; charset="utf-8"',
        SOAPAction: soapActionHeader(this.service.serviceType, action),
      },
      body: buildSoapRequest(this.service.serviceType, action, args),
      timeoutMs: this.timeoutMs,
      maxBytes: this.maxResponseBytes,
      signal: this.closing.signal,
    });
    // UDA 2.0 §3.2.2: faults come with status 500; parse any body that may hold one.
    if (res.status !== 200 && !res.body.includes('Fault')) throw new IgdError('http-status', `${action}: HTTP ${res.status}`);
    return parseSoapResponse(res.body, action);
  }
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new IgdError('malformed', `bad port ${port}`);
  return port;
}

function toEntry(
  out: Map<string, string>,
  known: { remoteHost?: string; externalPort?: number; protocol?: MappingProtocol },
): PortMappingEntry {
  const num = (name: string, min: number, max: number): number => {
    const raw = out.get(name)?.trim() ?? '';
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new IgdError('malformed', `${name} is not a number in ${min}..${max}: ${raw.slice(0, 20)}`);
    return n;
  };
  const protocolText = out.get('NewProtocol')?.trim().toLowerCase();
  const protocol = known.protocol ?? (protocolText === 'udp' || protocolText === 'tcp' ? protocolText : undefined);
  if (protocol === undefined) throw new IgdError('malformed', `NewProtocol is not UDP or TCP: ${(protocolText ?? '').slice(0, 20)}`);
  const enabled = out.get('NewEnabled')?.trim();
  return {
    remoteHost: known.remoteHost ?? (out.get('NewRemoteHost') ?? '').trim().slice(0, 64),
    externalPort: known.externalPort ?? num('NewExternalPort', 0, 65535),
    protocol,
    internalPort: num('NewInternalPort', 1, 65535),
    internalClient: (out.get('NewInternalClient') ?? '').trim().slice(0, 64),
    enabled: enabled === '1' || enabled === 'true',
    description: (out.get('NewPortMappingDescription') ?? '').slice(0, MAX_DESCRIPTION_CHARS),
    leaseDurationS: num('NewLeaseDuration', 0, MAX_LEASE_S),
  };
}
