import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import type { ProxyOptions } from 'vite';

// The components use signalUrl '/api/call/signal' on the page's own origin: `npm run dev` and
// `npm run preview` forward it to `rtcroom serve` (RTCROOM_URL, default http://127.0.0.1:8000).
const rtcroom = process.env.RTCROOM_URL ?? 'http://127.0.0.1:8000';
const proxy: Record<string, ProxyOptions> = {
  '/api/call/signal': { target: rtcroom, ws: true },
};

export default defineConfig({
  plugins: [react()],
  // @rtcroom/react is linked from js/react, which has React of its own for its tests: one React.
  resolve: { dedupe: ['react', 'react-dom'] },
  server: { proxy },
  preview: { proxy },
});
