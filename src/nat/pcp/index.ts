// PCP (RFC 6887) and NAT-PMP (RFC 6886): pure codecs, the retransmission schedule and epoch check,
// the UDP client for the gateway's port 5351, and the mapper that keeps mappings renewed.
export {
  NATPMP_RESULT_NAMES, PCP_RESULT_NAMES, PortControlError,
  type PortControlErrorCode, type PortControlProtocol, type PortControlResultName,
} from './port-control-error.js';
export { fromPcpAddress, toPcpAddress } from './pcp-address.js';
export {
  IANA_PROTOCOL, PCP_MAX_MESSAGE_BYTES, PCP_OPCODE_MAP, PCP_SERVER_PORT, PCP_VERSION,
  decodePcpMapResponse, decodePcpResponseHeader, encodePcpMapRequest, isPcpMapResponse,
  type PcpMapRequest, type PcpMapResponse, type PcpOption, type PcpProtocol, type PcpResponseHeader,
} from './pcp-codec.js';
export {
  NATPMP_RECOMMENDED_LIFETIME_S, decodeNatPmpResponse, encodeNatPmpExternalAddressRequest, encodeNatPmpMapRequest,
  type NatPmpMapRequest, type NatPmpResponse,
} from './natpmp-codec.js';
export { NATPMP_RETRANSMISSION, PCP_RETRANSMISSION, Retransmission, type RetransmissionOptions, type RetransmissionStep } from './retransmission.js';
export { epochLostState, type EpochSample } from './epoch.js';
export { parseProcNetRoute, readDefaultGateway } from './default-gateway.js';
export {
  PortControlClient, type PortControlClientOptions, type PortControlMapRequest, type PortControlMapResult, type PortControlTransport,
} from './port-control-client.js';
export { PortControlMapper, type PortControlMapperEvents, type PortControlMapperOptions, type PortControlMapping } from './port-control-mapper.js';
export { openPortControlMapper, type OpenPortControlMapperOptions } from './open-port-control-mapper.js';
