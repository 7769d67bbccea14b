// Power-loss safe persistence: write a temp file, fsync it, rename it over the old one,
// fsync the directory. A reader sees the old complete file or the new complete file, never a mix.
import {
  closeSync, fsyncSync, openSync, readSync, readdirSync, renameSync, unlinkSync, writeSync, constants,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RegistryError } from './values.js';

let tmpCounter = 0;

export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  const bytes = Buffer.from(data, 'utf8');
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw new RegistryError('io', `cannot write ${path}: ${(err as Error).message}`);
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files left by writers that were killed mid-write (their pid is gone). */
export function removeStaleTempFiles(path: string): number {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  let removed = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed++;
    } catch {
      // raced with another cleaner
    }
  }
  return removed;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * An exclusive lock file holding the owner's pid, so the CLI and the daemon never interleave
 * read-modify-write cycles. A lock whose owner died (SIGKILL, power loss) is taken over.
 */
export function withFileLock<T>(lockPath: string, fn: () => T, timeoutMs = 3000): T {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new RegistryError('io', `cannot lock ${lockPath}: ${(err as Error).message}`);
      }
      if (breakStaleLock(lockPath)) continue;
      if (Date.now() > deadline) {
        throw new RegistryError('locked', `settings are locked by another process (${lockPath})`);
      }
      Atomics.wait(sleepCell, 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // removed by a stale-lock breaker that misjudged us; nothing to do
    }
  }
}

function breakStaleLock(lockPath: string): boolean {
  let owner: number;
  try {
    const fd = openSync(lockPath, constants.O_RDONLY);
    try {
      const buf = Buffer.alloc(32);
      const n = readSync(fd, buf, 0, buf.length, 0);
      owner = Number(buf.subarray(0, n).toString('utf8').trim());
    } finally {
      closeSync(fd);
    }
  } catch {
    return true; // vanished: try again
  }
  // An empty lock file means the owner was killed between create and write.
  if (owner === 0 || Number.isNaN(owner) || !isProcessAlive(owner)) {
    try {
      unlinkSync(lockPath);
    } catch {
      // someone else broke it
    }
    return true;
  }
  return false;
}
