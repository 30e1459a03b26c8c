import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The dashboard's front-end: web/ → dist/web (hashed files under assets/). Preact's JSX through
 * Vite's own oxc transform; everything is bundled, nothing is fetched from elsewhere at run time.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  // `npm run dev:web`: the page from Vite, the API from a `serve` on its default port.
  server: { proxy: { '/api': 'http://127.0.0.1:8787' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The CSP forbids inline scripts and styles: every asset is a file, never a data: URL.
    assetsInlineLimit: 0,
    target: 'es2022',
  },
});
