export { ServerLocator, TargetCursor, orderSrv, type LocateRequest, type Target, type SipTransport } from './server-locator.js';
export { CachingResolver, type DnsCacheOptions } from './dns-cache.js';
export { NodeResolver, type NodeResolverOptions } from './node-resolver.js';
export { DnsError, type DnsResolver, type NaptrRecord, type SrvRecord, type AddressRecord } from './dns-types.js';
