// Builds the console to static files (console/dist) that the gateway serves at `/`. Everything is
// bundled (no CDN, no web fonts), so the console works on a machine with no outside network.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: { proxy: { '/v1': { target: 'http://127.0.0.1:7070', ws: true } } },
});
