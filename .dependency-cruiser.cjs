// The import table of ../shared/DESIGN.md ("Layout"), checked on every test run:
// a folder imports only the folders listed for it, and nothing imports in a cycle.
const ALLOWED = {
  util: [],
  registry: [],
  'nat/stun': ['util'],
  nat: ['util', 'registry', 'nat/stun'],
  sip: ['util', 'registry', 'nat', 'nat/stun'],
  sdp: ['util'],
  media: ['util', 'registry', 'nat', 'nat/stun'],
  rtc: ['sip', 'sdp', 'media', 'nat', 'nat/stun', 'registry', 'util'],
  hal: ['util', 'registry'],
  phone: ['rtc', 'hal', 'media', 'registry', 'util'],
  web: ['rtc', 'phone', 'hal', 'nat', 'nat/stun', 'registry', 'util'],
};

// Inside sip/, each layer imports only the ones below it (STYLE.md: message → transport →
// transaction → dialog → ua); auth, dns and protection are helpers beside message.
const SIP_BELOW = {
  message: [],
  auth: ['message'],
  dns: ['message'],
  protection: ['message'],
  transport: ['message', 'protection', 'dns'],
  transaction: ['message', 'transport', 'protection'],
  dialog: ['message', 'transport', 'transaction', 'auth'],
  ua: ['message', 'transport', 'transaction', 'dialog', 'auth', 'dns', 'protection'],
};

const esc = (s) => s.replace(/[/.]/g, '\\$&');

const layerRules = Object.entries(ALLOWED).map(([layer, allowed]) => ({
  name: `layer-${layer.replace('/', '-')}`,
  comment: `src/${layer}/ may import only: ${allowed.join(', ') || 'nothing else in src'} (DESIGN.md)`,
  severity: 'error',
  from: { path: `^src/${esc(layer)}/`, ...(layer === 'nat' ? { pathNot: '^src/nat/stun/' } : {}) },
  to: {
    path: '^src/',
    pathNot: [`^src/${esc(layer)}/`, ...allowed.map((a) => `^src/${esc(a)}/`)],
  },
}));

const sipRules = Object.entries(SIP_BELOW).map(([sub, below]) => ({
  name: `sip-${sub}`,
  comment: `src/sip/${sub}/ may import only the sip layers below it: ${below.join(', ') || 'none'}`,
  severity: 'error',
  from: { path: `^src/sip/${sub}/` },
  to: {
    path: '^src/sip/[^/]+/',
    pathNot: [`^src/sip/${sub}/`, ...below.map((b) => `^src/sip/${b}/`)],
  },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles', from: {}, to: { circular: true } },
    {
      name: 'no-upward-to-entry',
      severity: 'error',
      comment: 'nothing imports the daemon or the CLI except the CLI',
      from: { path: '^src/', pathNot: '^src/(cli\\.ts|daemon/)' },
      to: { path: '^src/(cli\\.ts|daemon/)' },
    },
    ...layerRules,
    ...sipRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
