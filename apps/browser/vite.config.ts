// The browser app's build: the page, the training worker and the packages (their browser entries,
// the CPU backend's own workers included) bundled into dist/app.
import { defineConfig } from "vite";

// SharedArrayBuffer, which the CPU backend's threads share, needs a cross-origin isolated page.
const isolated = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

export default defineConfig({
  build: { outDir: "dist/app", emptyOutDir: true, target: "es2022" },
  worker: { format: "es" },
  server: { headers: isolated },
  preview: { headers: isolated },
});
