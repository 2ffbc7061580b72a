import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import type { Plugin } from 'vite';

const SRC = fileURLToPath(new URL('./src/', import.meta.url));
// rtcroom's browser client, bundled in from the Python package: one implementation, whether it
// is one file or an entry module over several.
const CLIENT = fileURLToPath(new URL('../../src/rtcroom/web/rtcroom.js', import.meta.url));

/** './rtcroom.js' in src/ is the client above (as tsconfig's rootDirs says for the types). */
function rtcroomClient(): Plugin {
  return {
    name: 'rtcroom-client',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './rtcroom.js' && importer?.startsWith(SRC)) return CLIENT;
      return null;
    },
  };
}

export default defineConfig({
  plugins: [rtcroomClient()],
  build: {
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' },
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    minify: false,
    target: 'es2022',
    rollupOptions: { external: ['react', 'react-dom', 'react/jsx-runtime'] },
  },
  test: {
    environment: 'happy-dom',
    // A page origin, so signalUrl: '/api/call/signal' resolves as in a browser.
    environmentOptions: { happyDOM: { url: 'http://127.0.0.1:5173/' } },
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    testTimeout: 10_000,
  },
});
