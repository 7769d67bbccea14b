#!/usr/bin/env node
// The deskphone-agent command.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { Registry, RegistryError, formatValue } from './registry/index.js';
import type { AlgProbeResult } from './rtc/alg-probe.js';
// Each command loads what it needs when it runs (below): `nat-test` and the registry commands
// start without the daemon's web server, SIP stack and codecs.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const DEFAULT_DATA_DIR = process.env['DESKPHONE_DATA_DIR'] ?? '/var/lib/deskphone-agent';

const USAGE = `deskphone-agent ${VERSION}

usage:
  deskphone-agent run [--board <name>] [--data-dir <dir>] [--http <host:port>] [--sip-port <n>] [--sip-address <ip>]
  deskphone-agent registry list [--json] [--show-secrets]      every setting and its value
  deskphone-agent registry get <key> [--show-secrets]           print one value
  deskphone-agent registry set <key> <value>                    change a setting (checked first)
  deskphone-agent registry unset <key>                          back to the default
  deskphone-agent registry export [--include-secrets]           settings that differ from defaults, as JSON
  deskphone-agent registry import <file|->                      apply an export (all or nothing)
  deskphone-agent admin set-password                            set the web/API admin password
  deskphone-agent admin token                                   print a new API bearer token
  deskphone-agent admin revoke-tokens                           invalidate every API token
  deskphone-agent nat-test [--stun <host:port>] [--sip <host[:port]>] [--json] [--bind <ip>] [--lifetime-max-s <n> [--lifetime-step-s <n>]]
                                                                NAT type discovery (RFC 5780 / RFC 3489 classes), and a
                                                                SIP ALG probe (OPTIONS to --sip, default an account's proxy/registrar)
  deskphone-agent boards                                        list board definitions
  deskphone-agent version

Every command takes --data-dir <dir> (default ${DEFAULT_DATA_DIR}, or $DESKPHONE_DATA_DIR).`;

class UsageError extends Error {}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function parseHostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new UsageError(`${what} must be host:port, for example 127.0.0.1:8080`);
  return { host: m[1] ?? m[2] ?? '', port };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > 1024 * 1024) throw new UsageError('input larger than 1 MiB');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function checkIp(text: string): string {
  if (isIP(text) === 0) throw new UsageError('--sip-address must be an IPv4 or IPv6 address of this machine');
  return text;
}

async function cmdRun(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      board: { type: 'string' },
      'data-dir': { type: 'string' },
      'boards-dir': { type: 'string' },
      http: { type: 'string' },
      'sip-port': { type: 'string' },
      'sip-address': { type: 'string' },
    },
    strict: true,
  });
  const sipPort = values['sip-port'] === undefined ? undefined : Number(values['sip-port']);
  if (sipPort !== undefined && (!Number.isInteger(sipPort) || sipPort < 0 || sipPort > 65535)) throw new UsageError('--sip-port must be 0-65535 (0: any free port)');
  const { Daemon, SHUTDOWN_BUDGET_MS } = await import('./daemon/index.js');
  const daemon = new Daemon({
    dataDir: resolve(values['data-dir'] ?? DEFAULT_DATA_DIR),
    boardsDir: resolve(values['boards-dir'] ?? join(ROOT, 'board')),
    version: VERSION,
    ...(values.board !== undefined ? { board: values.board } : {}),
    ...(values.http !== undefined ? { http: parseHostPort(values.http, '--http') } : {}),
    ...(sipPort !== undefined ? { sipPort } : {}),
    ...(values['sip-address'] !== undefined ? { sipAddress: checkIp(values['sip-address']) } : {}),
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(1);
    // Hard limit: never take longer than the budget to exit, whatever a service does.
    setTimeout(() => process.exit(1), SHUTDOWN_BUDGET_MS).unref();
    void daemon.stop(sig).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    daemon.log.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
    void daemon.stop('uncaught exception').finally(() => process.exit(1));
  });
  try {
    await daemon.start();
  } catch (err) {
    daemon.log.fatal({ err: (err as Error).message }, 'start-up failed');
    await daemon.stop('start-up failed');
    process.exit(1);
  }
}

function dataDirOption(args: string[]) {
  return parseArgs({ args, options: { 'data-dir': { type: 'string' } }, allowPositionals: true, strict: true });
}

async function cmdRegistry(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      'data-dir': { type: 'string' }, json: { type: 'boolean' }, 'show-secrets': { type: 'boolean' }, 'include-secrets': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const registry = Registry.open(resolve(values['data-dir'] ?? DEFAULT_DATA_DIR));
  for (const p of registry.problems) process.stderr.write(`warning: ${p.message}\n`);
  const show = (secret: boolean | undefined, value: string): string => (secret && !values['show-secrets'] && value !== '' ? '********' : value);
  try {
    switch (sub) {
      case 'list': {
        const entries = registry.list();
        if (values.json) {
          out(JSON.stringify(entries.map((e) => ({ key: e.key, value: e.spec.secret && !values['show-secrets'] && !e.isDefault ? '********' : e.value, isDefault: e.isDefault })), null, 2));
          break;
        }
        for (const e of entries) {
          const flags = [e.isDefault ? '' : '*', e.spec.restart ? 'restart' : ''].filter(Boolean).join(' ');
          out(`${e.key} = ${show(e.spec.secret, formatValue(e.value))}${flags ? `   (${flags})` : ''}`);
        }
        break;
      }
      case 'get': {
        const [key] = positionals;
        if (!key || positionals.length !== 1) throw new UsageError('usage: registry get <key>');
        const spec = registry.spec(key);
        out(show(spec.secret, formatValue(registry.get(key))));
        break;
      }
      case 'set': {
        const [key, value] = positionals;
        if (!key || value === undefined || positionals.length !== 2) throw new UsageError('usage: registry set <key> <value>');
        const changes = registry.setText(key, value);
        const spec = registry.spec(key);
        const canonical = changes[0]?.key ?? key;
        const shown = spec.secret ? '********' : formatValue(registry.get(key));
        out(`${canonical} = ${shown}${changes.some((c) => c.restartRequired) ? ' (takes effect after a restart)' : changes.length === 0 ? ' (unchanged)' : ''}`);
        break;
      }
      case 'unset': {
        const [key] = positionals;
        if (!key || positionals.length !== 1) throw new UsageError('usage: registry unset <key>');
        registry.unset(key);
        out(`${key} = ${show(registry.spec(key).secret, formatValue(registry.get(key)))} (default)`);
        break;
      }
      case 'export':
        out(JSON.stringify({ format: 'deskphone-agent/settings-export', version: 1, settings: registry.export(values['include-secrets'] === true) }, null, 2));
        break;
      case 'import': {
        const [file] = positionals;
        if (!file) throw new UsageError('usage: registry import <file|->');
        const text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
        let doc: unknown;
        try {
          doc = JSON.parse(text);
        } catch (err) {
          throw new RegistryError('invalid-file', `${file}: not valid JSON (${(err as Error).message})`);
        }
        const settings = (doc as { settings?: unknown })?.settings ?? doc;
        if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) throw new RegistryError('invalid-file', `${file}: expected {"settings": {...}}`);
        const changes = registry.update(settings as Record<string, unknown>);
        out(`imported ${Object.keys(settings).length} settings, ${changes.length} changed${changes.some((c) => c.restartRequired) ? ' (some take effect after a restart)' : ''}`);
        break;
      }
      default:
        throw new UsageError('usage: registry list|get|set|unset|export|import');
    }
  } finally {
    registry.close();
  }
}

async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('internal: readPassword on a non-terminal');
  process.stderr.write(prompt);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  return new Promise((resolvePw, reject) => {
    let pw = '';
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          process.stdin.setRawMode(false);
          process.stdin.pause();
          process.stdin.off('data', onData);
          process.stderr.write('\n');
          resolvePw(pw);
          return;
        }
        if (ch === '\u0003') {
          process.stdin.setRawMode(false);
          reject(new UsageError('cancelled'));
          return;
        }
        if (ch === '\u007f') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    process.stdin.on('data', onData);
  });
}

async function cmdAdmin(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = dataDirOption(rest);
  const dataDir = resolve(values['data-dir'] ?? DEFAULT_DATA_DIR);
  Registry.open(dataDir).close(); // creates the data dir with the right mode
  const { AdminCredentials, CredentialsError } = await import('./web/admin-credentials.js');
  try {
    await adminCommand(sub, new AdminCredentials(dataDir));
  } catch (err) {
    if (err instanceof CredentialsError) throw new UsageError(err.message);
    throw err;
  }
}

async function adminCommand(sub: string | undefined, creds: import('./web/admin-credentials.js').AdminCredentials): Promise<void> {
  switch (sub) {
    case 'set-password': {
      let first: string;
      let second: string;
      if (process.stdin.isTTY) {
        first = await readPassword('New admin password: ');
        second = await readPassword('Again: ');
      } else {
        const lines = (await readStdin()).split(/\r?\n/);
        [first = '', second = ''] = lines;
      }
      if (first !== second) throw new UsageError('the two passwords differ; nothing changed');
      creds.setPassword(first);
      out('admin password set; the web page and API now need it (restart the daemon to serve beyond 127.0.0.1)');
      break;
    }
    case 'token':
      out(creds.createToken());
      break;
    case 'revoke-tokens':
      creds.revokeTokens();
      out('all API tokens revoked');
      break;
    default:
      throw new UsageError('usage: admin set-password|token|revoke-tokens');
  }
}

/** DESIGN.md: `nat-test [--stun <host:port>] [--json]`; the server defaults to nat.stunServer. */
async function cmdNatTest(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      stun: { type: 'string' },
      sip: { type: 'string' },
      json: { type: 'boolean' },
      bind: { type: 'string' },
      'lifetime-max-s': { type: 'string' },
      'lifetime-step-s': { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  // The settings are read as before for the STUN server; for the accounts only where they exist
  // (opening creates the data directory).
  const dataDir = resolve(values['data-dir'] ?? DEFAULT_DATA_DIR);
  const registry = values.stun === undefined || (values.sip === undefined && existsSync(dataDir)) ? Registry.open(dataDir) : undefined;
  const server = values.stun ?? registry?.getString('nat.stunServer') ?? '';
  const sip = values.sip ?? (registry ? accountSipServer(registry) : undefined);
  if (!server && !sip) throw new UsageError('no STUN server: give --stun <host:port> or set nat.stunServer (or --sip <host[:port]> for the SIP ALG probe alone)');
  const maxWaitS = values['lifetime-max-s'] === undefined ? undefined : Number(values['lifetime-max-s']);
  if (maxWaitS !== undefined && (!Number.isInteger(maxWaitS) || maxWaitS < 1 || maxWaitS > 3600)) throw new UsageError('--lifetime-max-s must be 1-3600');
  const stepS = values['lifetime-step-s'] === undefined ? undefined : Number(values['lifetime-step-s']);
  if (stepS !== undefined && (!Number.isInteger(stepS) || stepS < 1 || stepS > 600)) throw new UsageError('--lifetime-step-s must be 1-600');
  const { describeNatResult, discoverNatBehaviour, parseStunServer } = await import('./nat/nat-behaviour-discovery.js');
  const { NatDiscoveryError } = await import('./nat/nat-discovery-error.js');
  const { keepaliveInterval } = await import('./nat/keepalive-interval.js');
  const { localAddress } = await import('./daemon/local-address.js');
  const alg = sip ? { ...(await import('./rtc/alg-probe.js')), ...(await import('./rtc/alg-detector.js')) } : undefined;
  const algProbe = sip && alg ? alg.probeSipAlg({ server: parseSipServer(sip), localAddress: values.bind !== undefined ? checkIp(values.bind) : localAddress() }).catch((err: unknown) => new Error(`SIP ALG probe: ${(err as Error).message}`)) : undefined;
  let result;
  try {
    result = !server ? undefined : await discoverNatBehaviour({
      server: parseStunServer(server),
      ...(values.bind !== undefined ? { bindAddress: checkIp(values.bind) } : {}),
      ...(maxWaitS !== undefined ? { bindingLifetime: { maxWaitS, ...(stepS !== undefined ? { stepS } : {}) } } : {}),
    });
  } catch (err) {
    if (err instanceof NatDiscoveryError) throw new UsageError(`nat-test: ${err.message}`);
    throw err;
  }
  const algResult = await algProbe;
  if (algResult instanceof Error) throw new UsageError(`nat-test: ${algResult.message}`);
  // The interval the daemon would use with nat.keepaliveIntervalS 0 (keepalive-interval.ts), when a lifetime was measured.
  const keepalive = result?.bindingLifetimeS !== undefined
    ? keepaliveInterval(0, { bindingLifetimeS: result.bindingLifetimeS, ...(result.bindingExpiredS !== undefined ? { bindingExpiredS: result.bindingExpiredS } : {}) })
    : undefined;
  // JSON: DESIGN.md's natType, mapping, filtering, publicAddress, bindingLifetimeS, then the details;
  // sipAlg when a SIP server was probed.
  if (values.json) out(JSON.stringify({ ...result, ...(keepalive ? { keepaliveIntervalS: keepalive.intervalS } : {}), ...(algResult ? { sipAlg: algResult } : {}) }));
  else {
    out([
      ...(result ? [describeNatResult(result) + (keepalive ? `\nkeep-alive:      every ${keepalive.intervalS} s with nat.keepaliveIntervalS 0 (${keepalive.reason})` : '')] : []),
      ...(algResult && alg ? [describeAlgProbe(algResult, alg.ALG_ADVICE)] : []),
    ].join('\n'));
  }
}

/** The first enabled account's proxy, else its registrar, as host[:port]. */
function accountSipServer(reg: Registry): string | undefined {
  for (const id of reg.accounts()) {
    if (!reg.getBoolean(`accounts.${id}.enabled`)) continue;
    const uri = reg.getString(`accounts.${id}.proxy`) || reg.getString(`accounts.${id}.registrar`);
    if (uri) return uri.replace(/^sips?:/i, '').replace(/^[^@]*@/, '').replace(/[;?].*$/, '');
  }
  return undefined;
}

function parseSipServer(text: string): { host: string; port?: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(text.replace(/^sips?:/i, ''));
  if (!m?.[1] || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) throw new UsageError(`--sip: not host[:port]: ${text}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), ...(m[2] !== undefined ? { port: Number(m[2]) } : {}) };
}

function describeAlgProbe(a: AlgProbeResult, advice: string): string {
  if (a.status === null) return `SIP ALG:         unknown (no answer to OPTIONS from ${a.server})`;
  if (!a.evidence) return `SIP ALG:         none seen (OPTIONS to ${a.server} answered ${a.status}, our Via untouched)`;
  return `SIP ALG:         DETECTED on the way to ${a.server}: ${a.evidence.kind} (sent ${a.evidence.sent}, seen ${a.evidence.seen})\n                 ${advice}`;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run':
      return cmdRun(rest);
    case 'registry':
      return cmdRegistry(rest);
    case 'admin':
      return cmdAdmin(rest);
    case 'nat-test':
      return cmdNatTest(rest);
    case 'boards':
      for (const b of (await import('./hal/index.js')).listBoards(join(ROOT, 'board'))) out(b);
      return;
    case 'version':
    case '--version':
      out(VERSION);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${cmd}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof RegistryError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
