import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { registryTable } from '../../../scripts/gen-registry-doc.js';
import { REPO_ROOT } from '../../helpers/paths.js';

test('the README lists every registry key as the schema declares it (npm run docs:registry)', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(registryTable()), 'README.md registry table is out of date: run npm run docs:registry');
});

test('the README starts with the two commands, and .ci/run runs the test one', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const firstBlocks = [...readme.matchAll(/```sh\n([^\n]+)\n```/g)].slice(0, 2).map((m) => m[1]);
  assert.deepEqual(firstBlocks, ['npm ci && npm start', './scripts/test-all.sh']);
  assert.match(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8'), /^\.\/scripts\/test-all\.sh$/m);
});
