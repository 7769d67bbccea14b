export { LocalPortManager, type MappingRequest, type PortManager, type PortMapping, type SocketChannel, type SocketKind, type TransportAddress } from './port-manager.js';
export { StaticProvider, StunProvider, type MappingProvider, type StaticSettings } from './mapping-provider.js';
export { NatPortManager, isPrivateAddress, type NatDecision, type NatProviders, type NatStrategy } from './nat-port-manager.js';
export { discoverNatBehaviour, parseStunServer, describeNatResult, type NatDiscoveryOptions, type NatDiscoveryResult } from './nat-behaviour-discovery.js';
export { NatDiscoveryError } from './nat-discovery-error.js';
export { UpnpProvider, PcpProvider, type RouterMappingSettings } from './router-mapping-providers.js';
