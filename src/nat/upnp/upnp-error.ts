// The UPnP layer's errors: an IGD's SOAP fault becomes an UpnpError whose `code` is the UPnP
// errorCode (UPnP IGD WANIPConnection:2 §2.5, UPnP Device Architecture 2.0 §3.2.2); everything
// that goes wrong before a fault could be read (no IGD, timeouts, limits, bad XML) is an IgdError.
import { CodedError } from '../../util/index.js';

/** The errorCode values this client acts on (WANIPConnection:2 §2.5.x, UDA §3.2.2). */
export const UPNP_ERROR = {
  InvalidAction: 401,
  InvalidArgs: 402,
  ActionFailed: 501,
  ActionNotAuthorized: 606,
  SpecifiedArrayIndexInvalid: 713,
  NoSuchEntryInArray: 714,
  WildCardNotPermittedInSrcIP: 715,
  WildCardNotPermittedInExtPort: 716,
  ConflictInMappingEntry: 718,
  SamePortValuesRequired: 724,
  OnlyPermanentLeasesSupported: 725,
  RemoteHostOnlySupportsWildcard: 726,
  ExternalPortOnlySupportsWildcard: 727,
  NoPortMapsAvailable: 728,
  ConflictWithOtherMechanisms: 729,
} as const;

/** A SOAP fault from the IGD, parsed from its `<UPnPError>` detail. */
export class UpnpError extends Error {
  constructor(
    /** The UPnP errorCode, e.g. 718 (ConflictInMappingEntry); see UPNP_ERROR. */
    readonly code: number,
    /** The IGD's errorDescription, for logs only: branch on `code`. */
    readonly description: string,
    /** The SOAP action that failed. */
    readonly action: string,
  ) {
    super(`${action}: UPnP error ${code}${description ? ` (${description})` : ''}`);
    this.name = 'UpnpError';
  }
}

export type IgdErrorCode =
  /** SSDP found no device with a WANIPConnection or WANPPPConnection service before the deadline. */
  | 'no-igd'
  /** An HTTP exchange did not finish in time. */
  | 'timeout'
  /** A body, datagram or list exceeded the client's limit. */
  | 'too-large'
  /** An HTTP status other than 200 that carried no SOAP fault. */
  | 'http-status'
  /** XML or SSDP that does not have the shape the specification gives it. */
  | 'malformed'
  /** A URL the client refuses to follow (not http:, or a host other than the device's). */
  | 'bad-url'
  /** The network call itself failed (connection refused, reset). */
  | 'network'
  /** Every external port tried was taken (ConflictInMappingEntry each time). */
  | 'no-free-port'
  | 'closed';

export class IgdError extends CodedError<IgdErrorCode> {}
