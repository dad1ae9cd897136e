// Dashboard 2.0 loads a third-party widget as <httpAdminRoot>/resources/<package>/<output>
// and takes window[<widget type>][<component>]: a UMD library named after the type,
// with vue and vuex left to the dashboard (window.Vue, window.vuex).
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const LIBRARY = 'ui-axmjpeg-camera';
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  logLevel: 'warn',
  plugins: [vue()],
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: here('resources'),
    emptyOutDir: false,
    copyPublicDir: false,
    minify: true,
    lib: { entry: here('ui/index.js'), name: LIBRARY, formats: ['umd'], fileName: () => `${LIBRARY}.umd.js` },
    rollupOptions: { external: ['vue', 'vuex'], output: { globals: { vue: 'Vue', vuex: 'vuex' } } },
  },
});
