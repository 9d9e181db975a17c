// Build: `npm ci && npm run build` writes the app to ../src/kaifang/web/static (served by `kaifang serve`).
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../src/kaifang/web/static",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 800,
    sourcemap: false,
  },
  server: { proxy: { "/api": "http://127.0.0.1:8765", "/openapi.json": "http://127.0.0.1:8765" } },
});
