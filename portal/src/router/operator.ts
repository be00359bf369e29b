import type { RouteRecordRaw } from "vue-router";

/**
 * The operator's pages (运营): the flagship stores' board, the live dashboard
 * (its charts in a chunk of their own), the catalogue's consistency report and
 * the registration of department systems at the OpenID Connect provider.
 */
export const operatorRoutes: RouteRecordRaw[] = [
  {
    path: "/operator/stores",
    name: "operator-stores",
    component: () => import("@/views/operator/StoresBoardView.vue"),
    meta: { requiresAuth: true, kinds: ["operator"] },
  },
  {
    path: "/operator/live",
    name: "operator-live",
    component: () => import("@/views/operator/LiveDashboardView.vue"),
    meta: { requiresAuth: true, kinds: ["operator"] },
  },
  {
    path: "/operator/catalog",
    name: "operator-catalog",
    component: () => import("@/views/operator/CatalogReportView.vue"),
    meta: { requiresAuth: true, kinds: ["operator"] },
  },
  {
    path: "/operator/clients",
    name: "oidc-clients",
    component: () => import("@/views/operator/OidcClientsView.vue"),
    // A department admin reads their own department's; only operators change them.
    meta: { requiresAuth: true, kinds: ["operator", "staff"], roles: ["dept_admin"] },
  },
];
