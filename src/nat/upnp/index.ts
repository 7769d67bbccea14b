// The UPnP IGD client's public surface: discovery (SSDP + device description), the SOAP actions
// of the WAN connection service, and the mapper that keeps leases renewed.
export { IgdError, UPNP_ERROR, UpnpError, type IgdErrorCode } from './upnp-error.js';
export { IGD_SEARCH_TARGETS, SSDP_MULTICAST_ADDRESS, SSDP_PORT, buildMSearch, parseSsdpResponse, type SsdpResponse } from './ssdp-message.js';
export { WAN_CONNECTION_SERVICE_TYPES, parseIgdDescription, type IgdService, type WanConnectionServiceType } from './igd-description.js';
export { buildSoapRequest, parseSoapResponse } from './soap.js';
export { IgdClient, type AddPortMappingArgs, type IgdClientOptions, type IgdControl, type MappingProtocol, type PortMappingEntry } from './igd-client.js';
export { discoverIgd, localAddressFor, type DiscoverIgdOptions } from './igd-discovery.js';
export { UpnpMapper, type UpnpMapperEvents, type UpnpMapperOptions, type UpnpMapping } from './upnp-mapper.js';
export { openUpnpMapper, type OpenUpnpMapperOptions } from './open-upnp-mapper.js';
