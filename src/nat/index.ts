export { LocalPortManager, type MappingRequest, type PortManager, type PortMapping, type SocketKind, type TransportAddress } from './port-manager.js';
