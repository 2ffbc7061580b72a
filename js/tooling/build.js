// Bundles the browser client's modules (js/client/src) into the one file Python ships and serves,
// src/rtcroom/web/rtcroom.js: an ES module with no imports, so a page loads it in one request.
// Not minified, so users can read what they run. The output depends only on the sources and
// the esbuild version pinned in package-lock.json, so CI rebuilds it and compares.
//
//   node build.js           write src/rtcroom/web/rtcroom.js
//   node build.js --check   exit 1 if the committed file differs from a fresh build
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = 'js/client/src/index.js';
const outfile = 'src/rtcroom/web/rtcroom.js';

const banner = `// rtcroom.js: the rtcroom browser client, one dependency-free ES module. Types: rtcroom.d.ts.
//
//   import { WebRTCCall } from '/rtcroom.js';
//   const call = new WebRTCCall({ roomId: 'demo', signalUrl: '/api/call/signal', iceServers: [] });
//
// GENERATED from ${path.dirname(entry)} by \`npm run build\` in js/tooling (esbuild ${esbuild.version}).
// Do not edit: change the sources there and rebuild; CI fails if this file differs from a build.`;

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  charset: 'utf8',
  legalComments: 'inline',
  banner: { js: banner },
  write: false,
  outfile,
  logLevel: 'warning',
});
const built = result.outputFiles[0].contents;
const target = path.join(root, outfile);

if (process.argv.includes('--check')) {
  let committed;
  try {
    committed = readFileSync(target);
  } catch {
    committed = Buffer.alloc(0);
  }
  if (!Buffer.from(built).equals(committed)) {
    console.error(
      `${outfile} is not what ${path.dirname(entry)} builds to: run \`npm run build\` in js/tooling and commit it`,
    );
    process.exit(1);
  }
  console.log(`${outfile} matches a fresh build of ${path.dirname(entry)}`);
} else {
  writeFileSync(target, built);
  console.log(`wrote ${outfile} (${built.length} bytes)`);
}
