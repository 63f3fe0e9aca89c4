import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by the Switchboard server under /ui/ (operators) and /portal (consumers);
// `npm run dev:web` (from the repository root) proxies the API to a server on the default port.
export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': 'http://127.0.0.1:8071', '/ingest': 'http://127.0.0.1:8071' } },
});
