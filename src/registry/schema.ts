// Every key of the registry. The README's key table is generated from this list
// (`npm run docs:registry`), and the web page shows each description.
import type { KeySpec } from './schema-types.js';

export const ACCOUNT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const MAX_ACCOUNTS = 8;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export const NAT_STRATEGIES = ['auto', 'none', 'static', 'upnp', 'stun', 'turn', 'ice'] as const;
const SIP_ALG_AVOIDANCE = ['off', 'tcp', 'tls'] as const;
export const CODECS = ['PCMU', 'PCMA', 'G722', 'opus'] as const;
const TONE_COUNTRIES = ['us', 'uk', 'de', 'fr', 'it', 'es', 'nl', 'se', 'au', 'jp', 'br', 'etsi'] as const;

export const KEYS: readonly KeySpec[] = [
  // Device
  { key: 'board.name', type: 'string', default: 'auto', restart: true, maxLength: 64, pattern: /^[a-z0-9][a-z0-9-]*$/, patternHint: 'a board name from board/ or "auto"', description: 'Hardware board definition to drive ("auto" picks sim unless running on a Raspberry Pi).' },
  { key: 'log.level', type: 'enum', default: 'info', values: LOG_LEVELS, description: 'Log level of the daemon (applied live).' },

  // SIP
  { key: 'sip.localPort', type: 'integer', default: 5060, min: 1, max: 65535, restart: true, description: 'Local UDP/TCP port for SIP signalling (TLS uses the next port).' },
  { key: 'sip.symmetricUdp', type: 'boolean', default: true, description: 'Send SIP over UDP from the same port it is received on (symmetric UDP, RFC 4961 style).' },
  { key: 'sip.rport', type: 'boolean', default: true, description: 'Ask for and honour the rport Via parameter (RFC 3581) so responses reach us through a NAT.' },
  { key: 'sip.timerT1Ms', type: 'integer', default: 500, min: 50, max: 10000, description: 'RFC 3261 T1: round-trip estimate that drives retransmissions (ms).' },
  { key: 'sip.timerT2Ms', type: 'integer', default: 4000, min: 500, max: 60000, description: 'RFC 3261 T2: maximum retransmit interval for non-INVITE requests (ms).' },
  { key: 'sip.timerT4Ms', type: 'integer', default: 5000, min: 500, max: 60000, description: 'RFC 3261 T4: maximum time a message stays in the network (ms).' },
  { key: 'sip.maxStreamMessageBytes', type: 'integer', default: 65535, min: 4096, max: 1048576, description: 'Largest SIP message accepted on a TCP/TLS stream (bytes).' },
  { key: 'sip.rateLimitPerS', type: 'integer', default: 200, min: 1, max: 100000, description: 'Requests per second accepted from one source address before 503/drop.' },
  { key: 'sip.rateLimitBurst', type: 'integer', default: 400, min: 1, max: 100000, description: 'Burst of requests one source may send above the steady rate.' },
  { key: 'sip.maxServerTransactions', type: 'integer', default: 2000, min: 10, max: 100000, description: 'Cap on concurrent server transactions; above it requests get 503 with Retry-After.' },
  { key: 'sip.userAgent', type: 'string', default: 'deskphone-agent', maxLength: 128, description: 'User-Agent header value.' },
  { key: 'sip.acceptOnlyFromProxy', type: 'boolean', default: true, description: 'Accept incoming calls only from the registrar/proxy of a registered account (blocks SIP scanners).' },
  { key: 'sip.allowDirectIpCalls', type: 'boolean', default: false, description: 'Accept direct IP calls (sip:user@host) that do not come through a proxy.' },
  { key: 'sip.instanceId', type: 'string', default: '', optional: true, maxLength: 64, pattern: /^$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, patternHint: 'a UUID', restart: true, description: 'SIP Outbound +sip.instance UUID (RFC 5626); generated at first start.' },
  { key: 'sip.tlsVerify', type: 'boolean', default: true, description: 'Verify the TLS certificate of SIP servers.' },

  // Accounts (profiles)
  { key: 'accounts.*.enabled', type: 'boolean', default: true, description: 'Register this account.' },
  { key: 'accounts.*.displayName', type: 'string', default: '', optional: true, maxLength: 64, description: 'Display name shown to the people you call.' },
  { key: 'accounts.*.registrar', type: 'sipUri', default: '', optional: true, description: 'Registrar URI, for example sip:example.net.' },
  { key: 'accounts.*.proxy', type: 'sipUri', default: '', optional: true, description: 'Outbound proxy URI (empty: send to the registrar).' },
  { key: 'accounts.*.user', type: 'string', default: '', optional: true, maxLength: 64, pattern: /^[^\s@:;<>"]*$/, patternHint: 'a SIP user name without spaces, @, :, ; or quotes', description: 'SIP user (the user part of your address of record).' },
  { key: 'accounts.*.authUser', type: 'string', default: '', optional: true, maxLength: 64, pattern: /^[^\s"]*$/, patternHint: 'no spaces or quotes', description: 'Authentication user name, when it differs from the SIP user.' },
  { key: 'accounts.*.password', type: 'string', default: '', optional: true, secret: true, maxLength: 128, description: 'Digest authentication password.' },
  { key: 'accounts.*.transport', type: 'enum', default: 'udp', values: TRANSPORTS, description: 'Transport to the registrar/proxy.' },
  { key: 'accounts.*.expiresS', type: 'integer', default: 600, min: 60, max: 86400, description: 'Requested registration expiry (s).' },

  // Media
  { key: 'rtp.portMin', type: 'integer', default: 16384, min: 1024, max: 65534, restart: true, description: 'Lowest local RTP port (RTCP shares the RTP port: rtcp-mux, or a=rtcp naming it without).' },
  { key: 'rtp.portMax', type: 'integer', default: 16482, min: 1025, max: 65535, restart: true, description: 'Highest local RTP port.' },
  { key: 'media.codecs', type: 'list', default: ['PCMU', 'PCMA', 'G722'], values: CODECS, maxLength: 8, description: 'Audio codecs in order of preference.' },
  { key: 'media.ptimeMs', type: 'integer', default: 20, min: 10, max: 60, description: 'Audio packet time (ms).' },
  { key: 'media.dtmfMode', type: 'enum', default: 'rfc4733', values: ['rfc4733', 'info'], description: 'How keypad digits are sent during a call.' },
  { key: 'media.toneCountry', type: 'enum', default: 'us', values: TONE_COUNTRIES, description: 'Country whose dial, ringback and busy tones the phone plays.' },
  { key: 'audio.captureDevice', type: 'string', default: '', optional: true, maxLength: 128, description: 'ALSA capture device (empty: from the board definition).' },
  { key: 'audio.playbackDevice', type: 'string', default: '', optional: true, maxLength: 128, description: 'ALSA playback device (empty: from the board definition).' },

  // NAT traversal
  { key: 'nat.strategy', type: 'enum', default: 'auto', values: NAT_STRATEGIES, description: 'How to get through NAT: auto, none, static, upnp, stun, turn or ice.' },
  // Off by default, as desk phones ship: the ALG is what puts a public address in our SDP when we
  // have no STUN/UPnP mapping, so moving past it keeps two-way audio only with a provider that does
  // far-end NAT traversal (test/lab/nat-alg.test.ts: without it the far end's audio never arrives).
  { key: 'nat.sipAlgAvoidance', type: 'enum', default: 'off', values: SIP_ALG_AVOIDANCE, description: 'When a router\'s SIP ALG rewrites our SIP over UDP port 5060: off (report it, stay on UDP), tcp (register over TCP instead, back to UDP if the registrar refuses; the provider must handle NAT for media), tls (TLS, then TCP).' },
  { key: 'nat.keepaliveIntervalS', type: 'integer', default: 0, min: 0, max: 3600, description: 'Keep-alive interval for SIP flows (s); 0 derives it from the binding lifetime NAT discovery measures (needs nat.stunServer; 25 s until measured).' },
  { key: 'nat.staticPublicAddress', type: 'ipAddress', default: '', optional: true, description: 'Public IP address for static mapping (port forwarding set up by hand).' },
  { key: 'nat.staticSipPort', type: 'integer', default: 0, min: 0, max: 65535, description: 'Public SIP port forwarded by hand (0: same as the local port).' },
  { key: 'nat.staticRtpPortMin', type: 'integer', default: 0, min: 0, max: 65535, description: 'First public RTP port forwarded by hand (0: same as the local range).' },
  { key: 'nat.stunServer', type: 'hostPort', default: '', optional: true, description: 'STUN server as host:port, for example stun.example.net:3478.' },
  { key: 'nat.turnServer', type: 'hostPort', default: '', optional: true, description: 'TURN server as host:port.' },
  { key: 'nat.turnTransport', type: 'enum', default: 'udp', values: TRANSPORTS, description: 'Transport to the TURN server.' },
  { key: 'nat.turnUsername', type: 'string', default: '', optional: true, maxLength: 128, description: 'TURN user name.' },
  { key: 'nat.turnPassword', type: 'string', default: '', optional: true, secret: true, maxLength: 128, description: 'TURN password.' },
  { key: 'nat.upnpEnabled', type: 'boolean', default: true, description: 'Ask the router for port mappings over UPnP IGD.' },
  { key: 'nat.pcpEnabled', type: 'boolean', default: true, description: 'Ask the router for port mappings over NAT-PMP/PCP.' },
  { key: 'nat.upnpLeaseS', type: 'integer', default: 3600, min: 0, max: 604800, description: 'Lease time of UPnP/PCP port mappings (s); renewed at half.' },
  { key: 'rtc.enableEarlyUdpPackets', type: 'boolean', default: false, aliases: ['EnableEarlyUDPPackets'], description: 'Send a few packets to the far end\'s media ports as soon as they are known, to open the NAT for early media.' },

  // Phone
  { key: 'phone.dialPlan', type: 'string', default: '^(\\*\\d+#?|\\d{3,15}#|\\d{10})$', maxLength: 256, description: 'Regular expression; dialling starts as soon as the digits match it (or on #, or after the timeout).' },
  { key: 'phone.interDigitTimeoutS', type: 'integer', default: 4, min: 1, max: 30, description: 'Seconds after the last key before the number is dialled.' },
  { key: 'phone.callWaiting', type: 'boolean', default: true, description: 'Signal a second call with a tone instead of answering 486 Busy Here.' },
  { key: 'phone.doNotDisturb', type: 'boolean', default: false, description: 'Reject incoming calls with 486 Busy Here (or 480) without ringing.' },

  // Web administration
  { key: 'web.port', type: 'integer', default: 8080, min: 1, max: 65535, restart: true, description: 'TCP port of the web page and HTTP API.' },
  { key: 'web.bindAddress', type: 'ipAddress', default: '0.0.0.0', restart: true, description: 'Address the web page listens on once an admin password is set (only 127.0.0.1 before).' },
  { key: 'web.sessionTimeoutS', type: 'integer', default: 3600, min: 60, max: 604800, description: 'Idle time after which a web login expires (s).' },
];
