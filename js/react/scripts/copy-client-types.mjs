// dist/*.d.ts import './rtcroom.js' (see src/client.ts): give them the browser client's own
// declarations, copied at build time from the Python package so there is one source of them.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const web = join(here, '../../../src/rtcroom/web');
const dist = join(here, '../dist');

function declarations(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return declarations(path);
    return name.endsWith('.d.ts') ? [path] : [];
  });
}

const files = declarations(web);
if (!files.some((f) => relative(web, f) === 'rtcroom.d.ts')) {
  throw new Error(`no rtcroom.d.ts in ${web}: the package types need the client's declarations`);
}
for (const file of files) cpSync(file, join(dist, relative(web, file)));
if (!existsSync(join(dist, 'index.d.ts'))) throw new Error('dist/index.d.ts missing: run tsc first');
console.log(`copied ${files.length} client declaration file(s) into dist/`);
