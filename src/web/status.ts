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

export interface NatStatus {
  strategy: string;
  natType: string | null;
  publicAddress: string | null;
  mappings: unknown[];
  /** A router rewrites our SIP (SIP ALG), and what showed it. */
  alg?: boolean;
  algEvidence?: { kind: string; method: string; server: string; sent: string; seen: string } | null;
  /** What each account did about it (nat.sipAlgAvoidance): moved to TCP/TLS, or stayed on UDP. */
  algAvoidance?: Array<{ profile: string; state: string; transport: string; reason: string }>;
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
