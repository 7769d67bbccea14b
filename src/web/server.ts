// The daemon's HTTP API (Fastify). Until an admin password exists it serves only 127.0.0.1 and
// needs no token there (first set-up); afterwards every /api call needs a bearer token.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { SimHardware, type Hardware } from '../hal/index.js';
import { RegistryError, describeAllowed, formatValue, parseText, resolveKey, type Registry, type SettingEntry } from '../registry/index.js';
import type { Clock } from '../util/clock.js';
import type { AdminCredentials } from './admin-credentials.js';
import { prepareBody, sendPrepared, type PreparedBody } from './prepared-body.js';
import type { Status, StatusSource } from './status.js';

export interface WebOptions {
  readonly registry: Registry;
  readonly credentials: AdminCredentials;
  readonly hardware: Hardware;
  readonly status: StatusSource;
  readonly clock: Clock;
  readonly version: string;
  readonly board: string;
  readonly startedAtMs: number;
  readonly logger: import('pino').Logger;
  /** Calls from the web page (the RTC client implements it). */
  readonly calls?: WebCalls;
}

export interface WebCalls {
  call(target: string, profileId?: string): { readonly id: string };
  answer(id: string): void;
  hangup(id: string): void;
  session(id: string): unknown;
}

const MAX_LOGIN_FAILURES_PER_MIN = 5;
const MAX_SESSIONS = 64;
// Browsers revalidate every time (no-cache) and get 304 while the ETag holds; the settings list
// is for the logged-in browser only (private).
const PAGE_CACHE_CONTROL = 'no-cache';
const API_CACHE_CONTROL = 'private, no-cache';

interface Session {
  expiresAtMs: number;
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function publicEntry(e: SettingEntry, includeSecrets = false): Record<string, unknown> {
  const hide = e.spec.secret === true && !includeSecrets;
  return {
    key: e.key,
    value: hide ? (e.isDefault ? '' : '********') : e.value,
    default: e.spec.secret ? '' : e.spec.default,
    isDefault: e.isDefault,
    type: e.spec.type,
    allowed: describeAllowed(e.spec),
    ...(e.spec.values ? { values: e.spec.values } : {}),
    secret: e.spec.secret === true,
    restartRequired: e.spec.restart === true,
    description: e.spec.description,
    ...(e.spec.aliases ? { aliases: e.spec.aliases } : {}),
  };
}

export function buildServer(opts: WebOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'web' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
  });
  const sessions = new Map<string, Session>();
  const loginFailures = new Map<string, number[]>();

  const authorised = (req: FastifyRequest): boolean => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      if (opts.credentials.verifyToken(token)) return true;
      const s = findSession(token);
      if (s) {
        s.expiresAtMs = Date.now() + opts.registry.getNumber('web.sessionTimeoutS') * 1000;
        return true;
      }
      return false;
    }
    // First set-up: no password yet, the server listens on 127.0.0.1 only.
    return !opts.credentials.hasPassword() && isLoopback(req.socket.remoteAddress);
  };

  const findSession = (token: string): Session | undefined => {
    const now = Date.now();
    for (const [t, s] of sessions) {
      if (s.expiresAtMs < now) sessions.delete(t);
    }
    for (const [t, s] of sessions) {
      if (t.length === token.length && timingSafeEqual(Buffer.from(t), Buffer.from(token))) return s;
    }
    return undefined;
  };

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    if (req.url === '/api/session' && req.method === 'POST') return;
    if (!authorised(req)) {
      await reply.code(401).header('www-authenticate', 'Bearer realm="deskphone-agent"').send({ error: 'unauthorised', message: 'a valid bearer token is needed (deskphone-agent admin token)' });
    }
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof RegistryError) {
      return reply.code(err.code === 'unknown-key' ? 404 : err.code === 'locked' ? 503 : 400).send({ error: err.code, key: err.key, message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) opts.logger.error({ err: err.message }, 'HTTP handler failed');
    return reply.code(status).send({ error: err.code ?? 'error', message: status === 500 ? 'internal error' : err.message });
  });

  const page = prepareBody(
    `<!doctype html><meta charset="utf-8"><title>deskphone-agent</title><h1>deskphone-agent ${opts.version}</h1><p>Board: ${opts.board}. The API is under <code>/api/</code> (status: <a href="/api/status">/api/status</a>).</p>`,
    'text/html',
  );
  app.get('/', async (req, reply) => sendPrepared(req, reply, page, PAGE_CACHE_CONTROL));

  app.post('/api/session', async (req, reply) => {
    const ip = req.socket.remoteAddress ?? '?';
    const now = Date.now();
    const recent = (loginFailures.get(ip) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= MAX_LOGIN_FAILURES_PER_MIN) {
      return reply.code(429).header('retry-after', '60').send({ error: 'too-many-attempts', message: 'too many failed logins; wait a minute' });
    }
    // The attempt counts as failed while its password is checked (off the event loop), so logins
    // sent at once cannot pass the limit together; a good password takes its mark back.
    if (loginFailures.size > 1000) loginFailures.clear();
    recent.push(now);
    loginFailures.set(ip, recent);
    const body = req.body as { password?: unknown } | undefined;
    if (typeof body?.password !== 'string' || !(await opts.credentials.verifyPassword(body.password))) {
      return reply.code(401).send({ error: 'bad-password', message: 'wrong password' });
    }
    // Concurrent attempts replace the list in the map: take the mark back from the current one.
    const current = loginFailures.get(ip);
    const mark = current?.indexOf(now) ?? -1;
    if (mark >= 0) current?.splice(mark, 1);
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
    const token = randomBytes(32).toString('base64url');
    const timeoutS = opts.registry.getNumber('web.sessionTimeoutS');
    sessions.set(token, { expiresAtMs: now + timeoutS * 1000 });
    return reply.code(201).send({ token, expiresS: timeoutS });
  });

  app.get('/api/status', async (): Promise<Status> => ({
    version: opts.version,
    uptimeS: Math.round((opts.clock.now() - opts.startedAtMs) / 1000),
    board: opts.board,
    setupRequired: !opts.credentials.hasPassword(),
    phone: { state: opts.status.phoneState() },
    registrations: opts.status.registrations(),
    nat: opts.status.nat(),
    calls: opts.status.calls(),
    problems: opts.status.problems(),
  }));

  const settingsList = new SettingsListCache(opts.registry);
  app.addHook('onClose', async () => settingsList.close());
  app.get('/api/registry', async (req, reply) => sendPrepared(req, reply, settingsList.body(), API_CACHE_CONTROL));

  app.get<{ Params: { key: string } }>('/api/registry/:key', async (req) => {
    const { key, spec } = resolveKey(req.params.key);
    return publicEntry({ key, spec, value: opts.registry.get(key), isDefault: !opts.registry.isSet(key) });
  });

  app.put<{ Params: { key: string } }>('/api/registry/:key', async (req) => {
    const body = req.body as { value?: unknown } | undefined;
    if (!body || !('value' in body)) throw new RegistryError('invalid-value', 'the body must be {"value": ...}', req.params.key);
    const { key, spec } = resolveKey(req.params.key);
    const changes = opts.registry.set(key, fromForm(opts.registry, key, body.value));
    opts.logger.info({ key, value: spec.secret ? '(secret)' : formatValue(opts.registry.get(key)) }, 'setting changed over HTTP');
    return { key, value: spec.secret ? '********' : opts.registry.get(key), restartRequired: changes.some((c) => c.restartRequired) };
  });

  app.put('/api/registry', async (req) => {
    const body = req.body as { settings?: unknown } | undefined;
    const settings = body?.settings;
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
      throw new RegistryError('invalid-value', 'the body must be {"settings": {"key": value, ...}}');
    }
    const changes = opts.registry.update(settings as Record<string, unknown>);
    return { changed: changes.map((c) => c.key), restartRequired: changes.some((c) => c.restartRequired) };
  });

  app.delete<{ Params: { key: string } }>('/api/registry/:key', async (req) => {
    const changes = opts.registry.unset(req.params.key);
    return { key: resolveKey(req.params.key).key, restartRequired: changes.some((c) => c.restartRequired) };
  });

  registerSimRoutes(app, opts.hardware);
  if (opts.calls) registerCallRoutes(app, opts.calls);
  return app;
}

/**
 * GET /api/registry's body, serialised once per change of the settings instead of per request.
 * A change event drops it; so does a new registry generation, which also covers a reload whose
 * values differ only in what is set explicitly (isDefault), which announces no change.
 */
class SettingsListCache {
  private cached: { readonly generation: number; readonly body: PreparedBody } | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly registry: Registry) {
    this.unsubscribe = registry.subscribe(['*'], () => {
      this.cached = undefined;
    });
  }

  body(): PreparedBody {
    const generation = this.registry.generation;
    if (this.cached?.generation !== generation) {
      const text = JSON.stringify({ settings: this.registry.list().map((e) => publicEntry(e)) });
      this.cached = { generation, body: prepareBody(text, 'application/json; charset=utf-8') };
    }
    return this.cached.body;
  }

  close(): void {
    this.unsubscribe();
    this.cached = undefined;
  }
}

/** DESIGN.md: POST /api/calls { target, account? } → 201 { id }; answer; DELETE hangs up or rejects. */
function registerCallRoutes(app: FastifyInstance, calls: WebCalls): void {
  app.post('/api/calls', async (req, reply) => {
    const body = req.body as { target?: unknown; account?: unknown } | undefined;
    if (typeof body?.target !== 'string' || body.target.length === 0 || body.target.length > 256) return reply.code(400).send({ error: 'invalid', message: 'the body must be {"target": "sip:bob@example.net" or a number, "account"?: "id"}' });
    if (body.account !== undefined && typeof body.account !== 'string') return reply.code(400).send({ error: 'invalid', message: '"account" must be an account id' });
    try {
      const s = calls.call(body.target, body.account);
      return reply.code(201).send({ id: s.id });
    } catch (err) {
      return reply.code(400).send({ error: 'call-failed', message: (err as Error).message });
    }
  });
  const withCall = (id: string, reply: FastifyReply, fn: () => void): FastifyReply | { ok: true } => {
    if (!calls.session(id)) return reply.code(404).send({ error: 'not-found', message: `no call ${id}` });
    try {
      fn();
      return { ok: true };
    } catch (err) {
      return reply.code(409).send({ error: 'conflict', message: (err as Error).message });
    }
  };
  app.post<{ Params: { id: string } }>('/api/calls/:id/answer', async (req, reply) => withCall(req.params.id, reply, () => calls.answer(req.params.id)));
  app.delete<{ Params: { id: string } }>('/api/calls/:id', async (req, reply) => withCall(req.params.id, reply, () => calls.hangup(req.params.id)));
}

/** The web page sends form fields as text; typed JSON values are used as they are. */
function fromForm(registry: Registry, key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const spec = registry.spec(key);
  return spec.type === 'boolean' || spec.type === 'integer' || spec.type === 'list' ? parseText(spec, key, value) : value;
}

function registerSimRoutes(app: FastifyInstance, hw: Hardware): void {
  const sim = hw instanceof SimHardware ? hw : undefined;
  const needSim = (reply: FastifyReply): SimHardware | undefined => {
    if (!sim) void reply.code(404).send({ error: 'not-sim', message: 'this board is not the sim board' });
    return sim;
  };
  app.get('/api/sim/state', async (_req, reply) => needSim(reply)?.state());
  app.post('/api/sim/hook', async (req, reply) => {
    const s = needSim(reply);
    if (!s) return;
    const body = req.body as { offHook?: unknown } | undefined;
    if (typeof body?.offHook !== 'boolean') return reply.code(400).send({ error: 'invalid', message: 'the body must be {"offHook": true|false}' });
    s.setHook(body.offHook);
    return s.state();
  });
  app.post('/api/sim/keys', async (req, reply) => {
    const s = needSim(reply);
    if (!s) return;
    const body = req.body as { keys?: unknown } | undefined;
    if (typeof body?.keys !== 'string') return reply.code(400).send({ error: 'invalid', message: 'the body must be {"keys": "123#"}' });
    try {
      s.pressKeys(body.keys);
    } catch (err) {
      return reply.code(400).send({ error: 'invalid', message: (err as Error).message });
    }
    return s.state();
  });
}
