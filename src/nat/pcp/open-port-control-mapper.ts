// The usual way in: find the default gateway, open a PCP/NAT-PMP client to it, and hand back a
// mapper that owns the client (closing the mapper deletes its mappings, then closes the client).
import { readDefaultGateway } from './default-gateway.js';
import { PortControlClient, type PortControlClientOptions } from './port-control-client.js';
import { PortControlError } from './port-control-error.js';
import { PortControlMapper, type PortControlMapperOptions } from './port-control-mapper.js';

export interface OpenPortControlMapperOptions {
  /** Default: the gateway of the default route. */
  readonly gateway?: string;
  readonly client?: Omit<PortControlClientOptions, 'gateway'>;
  readonly mapper?: Omit<PortControlMapperOptions, 'client' | 'onClose'>;
}

export async function openPortControlMapper(o: OpenPortControlMapperOptions = {}): Promise<{ mapper: PortControlMapper; client: PortControlClient }> {
  const gateway = o.gateway ?? (await readDefaultGateway());
  if (!gateway) throw new PortControlError('no-gateway', 'no IPv4 default route');
  const client = new PortControlClient({ ...o.client, gateway });
  const mapper = new PortControlMapper({ ...o.mapper, client, onClose: () => client.close() });
  return { mapper, client };
}
