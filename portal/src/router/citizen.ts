import type { RouteRecordRaw } from "vue-router";

/** A signed-in citizen's pages: applying, my cases, my licences. */
export const citizenRoutes: RouteRecordRaw[] = [
  {
    path: "/items/:itemId/apply",
    name: "apply",
    component: () => import("@/views/ApplyView.vue"),
    props: true,
    meta: { requiresAuth: true },
  },
  {
    path: "/my/cases",
    name: "my-cases",
    component: () => import("@/views/MyCasesView.vue"),
    meta: { requiresAuth: true },
  },
  {
    path: "/my/cases/:applicationId",
    name: "case",
    component: () => import("@/views/CaseView.vue"),
    props: true,
    meta: { requiresAuth: true },
  },
  {
    path: "/my/licences",
    name: "my-licences",
    component: () => import("@/views/MyLicencesView.vue"),
    meta: { requiresAuth: true },
  },
  {
    path: "/my/licences/:licenceNo",
    name: "licence",
    component: () => import("@/views/LicenceView.vue"),
    props: true,
    meta: { requiresAuth: true },
  },
];
