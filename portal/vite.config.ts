/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";

import vue from "@vitejs/plugin-vue";
import { defineConfig, type Plugin } from "vite";

// The gateway answers /api, the OpenID Connect endpoints and the JWKS; in
// development Vite serves the portal and passes those paths through.
const gateway = process.env.TONGBAN_GATEWAY ?? "http://127.0.0.1:8000";
const proxied = ["/api", "/oidc", "/.well-known"];

/**
 * vue-i18n 11 imports all of Vue as a namespace to look up
 * `currentInstance` by name (for Vue 3.6) and else calls getCurrentInstance;
 * that lookup keeps every export of Vue in the bundle (custom elements,
 * transitions, SSR, hydration: some 40 kB that no page uses). Vue 3.5 has no
 * `currentInstance` export, so the lookup always ends in getCurrentInstance:
 * it is imported by name here instead. Should the code change in a later
 * vue-i18n, the build says so and leaves it as it is.
 */
function vueI18nNamedImports(): Plugin {
  const namespaceImport = "import * as Vue from 'vue';";
  const lookup = /if \(key in Vue\) \{\s*return Vue\[key\];\s*\}\s*else \{\s*return Vue\.getCurrentInstance\(\);\s*\}/;
  return {
    name: "tongban:vue-i18n-named-imports",
    apply: "build",
    transform(code, id) {
      if (!/\/vue-i18n\/dist\/vue-i18n\.mjs$/.test(id)) return null;
      if (!code.includes(namespaceImport) || !lookup.test(code)) {
        this.warn("vue-i18n no longer looks Vue up by name as expected: left as it is");
        return null;
      }
      const named = code
        .replace(namespaceImport, "import { getCurrentInstance as vueGetCurrentInstance } from 'vue';")
        .replace(lookup, "return vueGetCurrentInstance();");
      return { code: named, map: null };
    },
  };
}

export default defineConfig({
  base: "/",
  // Every component is <script setup>: the Options API stays out of the bundle.
  plugins: [vue({ features: { optionsAPI: false } }), vueI18nNamedImports()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  define: {
    // vue-i18n: no legacy API and no devtools hooks in the bundle.
    __VUE_I18N_LEGACY_API__: "false",
    __VUE_I18N_FULL_INSTALL__: "false",
    __INTLIFY_PROD_DEVTOOLS__: "false",
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(
      proxied.map((path) => [path, { target: gateway, changeOrigin: false }]),
    ),
  },
  preview: {
    host: "127.0.0.1",
    port: 4173,
    proxy: Object.fromEntries(
      proxied.map((path) => [path, { target: gateway, changeOrigin: false }]),
    ),
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    // The live dashboard's chunk holds ECharts (core, bar and line charts,
    // SVG renderer: about 550 kB, 190 kB gzipped); only that page loads it.
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        entryFileNames: "assets/[name]-[hash].js",
        chunkFileNames: "assets/[name]-[hash].js",
        assetFileNames: "assets/[name]-[hash][extname]",
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    restoreMocks: true,
    unstubGlobals: true,
    // Two cores are shared with the back end's test runs.
    maxWorkers: 1,
    pool: "threads",
    // A router's first visit to a page transforms the page's lazily loaded
    // modules; on those shared cores that took past vitest's 5 s default.
    testTimeout: 30_000,
  },
});
