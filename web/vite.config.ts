// Two pages, one build: the ops dashboard at / and the staff tablet at /tablet/. `./run` builds
// into build/web (CW_WEB_OUT), which `cartwright serve --web` serves.
import { defineConfig } from 'vite';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
export default defineConfig({
  root,
  base: '/',
  build: {
    outDir: process.env.CW_WEB_OUT ?? resolve(root, 'dist'),
    emptyOutDir: true,
    rollupOptions: {
      input: { ops: resolve(root, 'index.html'), tablet: resolve(root, 'tablet/index.html') },
    },
  },
});
