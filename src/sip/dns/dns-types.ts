import { CodedError } from '../../util/errors.js';

export interface NaptrRecord {
  readonly order: number;
  readonly preference: number;
  readonly flags: string;
  readonly service: string;
  readonly regexp: string;
  readonly replacement: string;
  readonly ttlS: number;
}

export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly name: string;
  readonly ttlS: number;
}

export interface AddressRecord {
  readonly address: string;
  readonly family: 4 | 6;
  readonly ttlS: number;
}

/** The queries RFC 3263 needs; an empty array means "no such records" (NXDOMAIN/NODATA). */
export interface DnsResolver {
  naptr(name: string): Promise<NaptrRecord[]>;
  srv(name: string): Promise<SrvRecord[]>;
  a(name: string): Promise<AddressRecord[]>;
  aaaa(name: string): Promise<AddressRecord[]>;
}

export class DnsError extends CodedError<'timeout' | 'server-failure' | 'bad-name'> {}
