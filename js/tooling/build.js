// Bundles the browser client's modules (js/client/src) into the one file Python ships and serves,
// src/rtcroom/web/rtcroom.js: an ES module with no imports, so a page loads it in one request.
// Minified, with a source map (rtcroom.js.map, sources included) so browser dev tools show the
// readable modules; the repository keeps one copy of the code, the sources. The output depends
// only on the sources and the esbuild version pinned in package-lock.json, so CI rebuilds it and
// compares.
//
//   node build.js           write src/rtcroom/web/rtcroom.js and rtcroom.js.map
//   node build.js --check   exit 1 if the committed files differ from a fresh build
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
  minify: true,
  sourcemap: 'linked',
  sourcesContent: true,
  banner: { js: banner },
  write: false,
  outfile,
  logLevel: 'warning',
});
// The map first, then the bundle (esbuild's order), each compared or written on its own.
const outputs = result.outputFiles.map((file) => ({
  name: path.relative(root, file.path),
  path: file.path,
  contents: Buffer.from(file.contents),
}));

if (process.argv.includes('--check')) {
  const stale = outputs.filter((file) => {
    try {
      return !file.contents.equals(readFileSync(file.path));
    } catch {
      return true;
    }
  });
  if (stale.length) {
    console.error(
      `${stale.map((f) => f.name).join(' and ')} not what ${path.dirname(entry)} builds to: run \`npm run build\` in js/tooling and commit`,
    );
    process.exit(1);
  }
  console.log(`${outputs.map((f) => f.name).join(' and ')} match a fresh build of ${path.dirname(entry)}`);
} else {
  for (const file of outputs) {
    writeFileSync(file.path, file.contents);
    console.log(`wrote ${file.name} (${file.contents.length} bytes)`);
  }
}
