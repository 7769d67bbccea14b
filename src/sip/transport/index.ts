export { TransportLayer, type Incoming, type TransportOptions } from './transport-layer.js';
export { StreamConnection } from './stream-connection.js';
export { responseDestination, stampReceived } from './via-rules.js';
export { TransportError, isReliable, type Destination, type Endpoint, type TransportName } from './transport-types.js';
