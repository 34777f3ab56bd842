import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The API server (NestJS) listens on 3001. In development everything is proxied
// so the browser only ever talks to the Vite origin (same-origin, like production,
// where the server itself serves client/dist at "/").
const target = process.env.VITE_API_TARGET ?? 'http://127.0.0.1:3001';

export default defineConfig({
  plugins: [react()],
  server: {
    host: true,
    port: 8080,
    strictPort: true,
    proxy: {
      '/api': { target, changeOrigin: true },
      '/graphql': { target, changeOrigin: true, ws: true },
      '/socket.io': { target, changeOrigin: true, ws: true },
    },
  },
  preview: {
    port: 8080,
    strictPort: true,
    proxy: {
      '/api': { target, changeOrigin: true },
      '/graphql': { target, changeOrigin: true, ws: true },
      '/socket.io': { target, changeOrigin: true, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
  },
});
