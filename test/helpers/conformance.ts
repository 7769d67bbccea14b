import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export const CONFORMANCE = join(REPO_ROOT, 'test', 'conformance');

export function corpus(name: string): Map<string, Buffer> {
  const dir = join(CONFORMANCE, name);
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.dat') || f.endsWith('.bin')) out.set(f, readFileSync(join(dir, f)));
  return out;
}

/** The sha256 list at the end of a corpus INDEX.md: file → hash. */
export function indexHashes(name: string): Map<string, string> {
  const text = readFileSync(join(CONFORMANCE, name, 'INDEX.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^([0-9a-f]{64})\s+\d+\s+(\S+)$/gm)) out.set(m[2] as string, m[1] as string);
  return out;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
