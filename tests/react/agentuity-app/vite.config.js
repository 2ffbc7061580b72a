import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Like examples/react: '/api/call/signal' goes to `rtcroom serve` at RTCROOM_URL.
const proxy = {
  '/api/call/signal': { target: process.env.RTCROOM_URL ?? 'http://127.0.0.1:8000', ws: true },
};

export default defineConfig({ plugins: [react()], preview: { proxy }, server: { proxy } });
