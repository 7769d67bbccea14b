// The admin password (scrypt hash) and API tokens (SHA-256 of random tokens), in
// <data-dir>/admin.json, mode 0600. There is no default password.
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { withFileLock, writeFileAtomic } from '../registry/index.js';
import { CodedError } from '../util/errors.js';

export class CredentialsError extends CodedError<'weak-password' | 'invalid-file'> {}

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 256;
const MAX_TOKENS = 32;
const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32 } as const;

interface StoredToken {
  id: string;
  sha256: string;
  createdAt: string;
}

interface CredentialsDoc {
  password?: { salt: string; hash: string; N: number; r: number; p: number };
  tokens: StoredToken[];
}

export class AdminCredentials {
  private doc: CredentialsDoc = { tokens: [] };
  private loadedMtimeMs = -1;
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'admin.json');
  }

  /**
   * Re-reads the file when it changed on disk (the CLI writes it while the daemon runs). Every
   * API request gets here, so it costs one stat, not an existence check and then a stat.
   */
  private refresh(): void {
    const stat = statSync(this.path, { throwIfNoEntry: false });
    if (!stat) {
      this.doc = { tokens: [] };
      this.loadedMtimeMs = -1;
      return;
    }
    const mtime = stat.mtimeMs;
    if (mtime === this.loadedMtimeMs) return;
    try {
      const raw = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<CredentialsDoc>;
      const tokens = Array.isArray(raw.tokens) ? raw.tokens.filter((t) => typeof t?.sha256 === 'string' && typeof t.id === 'string') : [];
      const p = raw.password;
      this.doc = {
        tokens: tokens.slice(-MAX_TOKENS),
        ...(p && typeof p.salt === 'string' && typeof p.hash === 'string' ? { password: p } : {}),
      };
    } catch (err) {
      // An unreadable credentials file must not open the device: keep what we had, fail closed.
      throw new CredentialsError('invalid-file', `${this.path} is unreadable: ${(err as Error).message}`);
    }
    this.loadedMtimeMs = mtime;
  }

  hasPassword(): boolean {
    this.refresh();
    return this.doc.password !== undefined;
  }

  setPassword(password: string): void {
    if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
      throw new CredentialsError('weak-password', `the password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters long`);
    }
    const salt = randomBytes(16);
    const hash = scryptSync(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
    this.update((doc) => {
      doc.password = { salt: salt.toString('base64'), hash: hash.toString('base64'), N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p };
    });
  }

  /**
   * Checks a login password. scrypt runs on libuv's thread pool: on the daemon's event loop it
   * would stop RTP sending for the 100-300 ms it takes on a Pi.
   */
  async verifyPassword(password: string): Promise<boolean> {
    this.refresh();
    const p = this.doc.password;
    if (!p || password.length > MAX_PASSWORD_LENGTH) return false;
    const want = Buffer.from(p.hash, 'base64');
    const got = await new Promise<Buffer>((resolve, reject) => {
      scrypt(password, Buffer.from(p.salt, 'base64'), want.length, { N: p.N, r: p.r, p: p.p }, (err, key) => (err ? reject(err) : resolve(key)));
    });
    return got.length === want.length && timingSafeEqual(got, want);
  }

  /** Creates a new API token; only its hash is stored, the token itself is returned once. */
  createToken(): string {
    const token = randomBytes(32).toString('base64url');
    this.update((doc) => {
      doc.tokens.push({ id: randomBytes(4).toString('hex'), sha256: sha256(token), createdAt: new Date().toISOString() });
      doc.tokens = doc.tokens.slice(-MAX_TOKENS);
    });
    return token;
  }

  verifyToken(token: string): boolean {
    this.refresh();
    if (token.length > 256) return false;
    const h = Buffer.from(sha256(token), 'hex');
    let ok = false;
    for (const t of this.doc.tokens) {
      const s = Buffer.from(t.sha256, 'hex');
      if (s.length === h.length && timingSafeEqual(s, h)) ok = true;
    }
    return ok;
  }

  revokeTokens(): void {
    this.update((doc) => {
      doc.tokens = [];
    });
  }

  private update(fn: (doc: CredentialsDoc) => void): void {
    withFileLock(`${this.path}.lock`, () => {
      this.loadedMtimeMs = -1;
      this.refresh();
      const next: CredentialsDoc = structuredClone(this.doc);
      fn(next);
      writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`, 0o600);
      this.doc = next;
      this.loadedMtimeMs = statSync(this.path).mtimeMs;
    });
  }
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
