export { LocalPortManager, type MappingRequest, type PortManager, type PortMapping, type SocketChannel, type SocketKind, type TransportAddress } from './port-manager.js';
export { StaticProvider, StunProvider, type MappingProvider, type StaticSettings } from './mapping-provider.js';
export { NatPortManager, isPrivateAddress, type NatDecision, type NatProviders, type NatStrategy } from './nat-port-manager.js';
export { discoverNatBehaviour, measureNatBindingLifetime, parseStunServer, describeNatResult, type BindingLifetimeMeasurement, type NatDiscoveryOptions, type NatDiscoveryResult } from './nat-behaviour-discovery.js';
export { NatBehaviourMonitor, NatBehaviourStateError, type NatBehaviourRun, type NatBehaviourState, type NatBehaviourStatus } from './nat-behaviour-monitor.js';
export { BINDING_LIFETIME_PROBES_S, KEEPALIVE_FALLBACK_S, keepaliveInterval, type KeepaliveChoice, type MeasuredLifetime } from './keepalive-interval.js';
export { NatDiscoveryError } from './nat-discovery-error.js';
export { UpnpProvider, PcpProvider, type RouterMappingSettings } from './router-mapping-providers.js';
