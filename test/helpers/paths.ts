import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the directory with package.json), from compiled or source test files. */
export const REPO_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    // Compiled to an outDir outside the checkout: fall back to the working directory.
    if (up === dir) {
      if (existsSync(join(process.cwd(), 'package.json'))) return process.cwd();
      throw new Error('package.json not found above the tests or in the working directory');
    }
    dir = up;
  }
  return dir;
})();

export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli.js');
