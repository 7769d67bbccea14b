// The usual way in: discover the IGD, open a client on its WAN connection service, and hand back a
// mapper that owns that client (closing the mapper deletes its mappings, then closes the client).
import { IgdClient, type IgdClientOptions } from './igd-client.js';
import type { IgdService } from './igd-description.js';
import { discoverIgd, localAddressFor, type DiscoverIgdOptions } from './igd-discovery.js';
import { UpnpMapper, type UpnpMapperOptions } from './upnp-mapper.js';

export interface OpenUpnpMapperOptions {
  readonly discovery?: DiscoverIgdOptions;
  readonly client?: IgdClientOptions;
  readonly mapper?: Omit<UpnpMapperOptions, 'igd' | 'internalClient' | 'onClose'> & { readonly internalClient?: string };
}

export async function openUpnpMapper(o: OpenUpnpMapperOptions = {}): Promise<{ mapper: UpnpMapper; service: IgdService; client: IgdClient }> {
  const service = await discoverIgd(o.discovery);
  const internalClient = o.mapper?.internalClient ?? (await localAddressFor(new URL(service.controlUrl).hostname));
  const client = new IgdClient(service, o.client);
  const mapper = new UpnpMapper({ ...o.mapper, igd: client, internalClient, onClose: () => client.close() });
  return { mapper, service, client };
}
