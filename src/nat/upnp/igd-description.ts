// The IGD's device description (UPnP Device Architecture 2.0 §2.3): find the WAN connection
// service a port mapping goes to and its control URL, resolved against URLBase or LOCATION.
import { IgdError } from './upnp-error.js';
import { child, list, parseUpnpXml, text } from './upnp-xml.js';

/** In order of preference: IGDv2's WANIPConnection:2 (AddAnyPortMapping, lease rules), then v1. */
export const WAN_CONNECTION_SERVICE_TYPES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
] as const;

export type WanConnectionServiceType = (typeof WAN_CONNECTION_SERVICE_TYPES)[number];

/** A device description bigger than this is not a home router's. */
export const IGD_MAX_DESCRIPTION_BYTES = 64 * 1024;
const MAX_SERVICES = 64;

export interface IgdService {
  /** The description URL SSDP gave. */
  readonly location: string;
  readonly serviceType: WanConnectionServiceType;
  /** Absolute http URL for SOAP control requests, on the same host as `location`. */
  readonly controlUrl: string;
  readonly friendlyName?: string;
}

export function parseIgdDescription(xml: string, location: string): IgdService {
  const root = child(parseUpnpXml(xml), 'root');
  if (root === undefined) throw new IgdError('malformed', 'device description without <root>');
  const found = new Map<string, { controlUrl: string; friendlyName: string | undefined }>();
  let seen = 0;
  const walk = (devices: unknown): void => {
    for (const device of list(devices)) {
      for (const service of list(child(child(device, 'serviceList'), 'service'))) {
        if (++seen > MAX_SERVICES) throw new IgdError('too-large', 'too many services in the device description');
        const type = text(child(service, 'serviceType'))?.trim();
        const controlUrl = text(child(service, 'controlURL'))?.trim();
        if (type !== undefined && controlUrl && !found.has(type)) found.set(type, { controlUrl, friendlyName: text(child(device, 'friendlyName')) });
      }
      walk(child(child(device, 'deviceList'), 'device'));
    }
  };
  walk(child(root, 'device'));
  for (const serviceType of WAN_CONNECTION_SERVICE_TYPES) {
    const s = found.get(serviceType);
    if (!s) continue;
    const base = text(child(root, 'URLBase'))?.trim() || location;
    return {
      location,
      serviceType,
      controlUrl: resolveControlUrl(s.controlUrl, base, location),
      ...(s.friendlyName ? { friendlyName: s.friendlyName } : {}),
    };
  }
  throw new IgdError('no-igd', 'device description has no WANIPConnection or WANPPPConnection service');
}

/** UDA 2.0 §2.3: relative URLs resolve against URLBase when present, else the description URL. */
function resolveControlUrl(controlUrl: string, base: string, location: string): string {
  let url: URL;
  try {
    url = new URL(controlUrl, new URL(base, location));
  } catch {
    throw new IgdError('bad-url', `control URL does not resolve: ${controlUrl.slice(0, 80)}`);
  }
  if (url.protocol !== 'http:') throw new IgdError('bad-url', `control URL is not http: ${url.protocol}`);
  if (url.hostname !== new URL(location).hostname) throw new IgdError('bad-url', `control URL host ${url.hostname} is not the device's`);
  return url.href;
}
