// The shape of GET /api/status (DESIGN.md "Interfaces"). Later layers fill registrations, NAT and calls.

export interface RegistrationStatus {
  account: string;
  state: 'unregistered' | 'registering' | 'registered' | 'failed';
  contact: string | null;
  expiresS: number | null;
}

export interface CallStatus {
  id: string;
  direction: 'in' | 'out';
  state: 'calling' | 'incoming' | 'early' | 'connected' | 'held' | 'ending';
  peer: string;
  codec: string | null;
  path: string | null;
  rtp: { sent: number; received: number; lost: number; jitterMs: number };
}

/** NAT behaviour discovery (RFC 5780) as the daemon last ran it. */
export interface NatDiscoveryStatus {
  /** off, discovering, measuring (binding lifetime), done, failed. */
  state: string;
  /** Why it is off, or what failed. */
  reason: string | null;
  server: string | null;
  trigger: string | null;
  /** RFC 3489 class: open, full-cone, restricted-cone, port-restricted-cone, symmetric, udp-blocked. */
  natType: string | null;
  mapping: string | null;
  filtering: string | null;
  publicAddress: string | null;
  localAddress: string | null;
  bindingLifetimeS: number | null;
  bindingExpiredS: number | null;
  /** ISO 8601 time the class was measured. */
  measuredAt: string | null;
  verdictMs: number | null;
  bindingLifetimeMs: number | null;
}

/** The keep-alive interval in use for SIP flows, and where it came from. */
export interface NatKeepaliveStatus {
  intervalS: number;
  /** setting (nat.keepaliveIntervalS), measured (binding lifetime), fallback (not measured). */
  source: string;
  reason: string;
  /** Per account, the nominal interval running (null: none; the registrar's Flow-Timer wins). */
  running: Array<{ account: string; intervalS: number | null }>;
}

export interface NatStatus {
  strategy: string;
  /** The RFC 3489 class discovery measured (null: not run, or not yet). */
  natType: string | null;
  publicAddress: string | null;
  mappings: unknown[];
  /** The port manager's choice for the SIP socket and why. */
  decision?: { strategy: string; via: string | null; reason: string };
  discovery?: NatDiscoveryStatus;
  keepalive?: NatKeepaliveStatus;
  /** A router rewrites our SIP (SIP ALG), and what showed it. */
  alg?: boolean;
  algEvidence?: { kind: string; method: string; server: string; sent: string; seen: string } | null;
}

export interface Status {
  version: string;
  uptimeS: number;
  board: string;
  setupRequired: boolean;
  phone: { state: string };
  registrations: RegistrationStatus[];
  nat: NatStatus;
  calls: CallStatus[];
  problems: string[];
}

/** Parts of the status that services outside the web layer provide. */
export interface StatusSource {
  registrations(): RegistrationStatus[];
  nat(): NatStatus;
  calls(): CallStatus[];
  phoneState(): string;
  problems(): string[];
}
