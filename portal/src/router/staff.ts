import type { RouteRecordRaw } from "vue-router";

/**
 * The staff's pages (工作台): the department's worklist and its cases,
 * rectifications of bad reviews, escalations. Guarded by the viewer's kind and
 * roles; the API decides each call again and its 403 is shown as any error.
 */
export const staffRoutes: RouteRecordRaw[] = [
  {
    path: "/staff/worklist",
    name: "staff-worklist",
    component: () => import("@/views/staff/WorklistView.vue"),
    meta: { requiresAuth: true, kinds: ["staff"] },
  },
  {
    path: "/staff/cases/:applicationId",
    name: "staff-case",
    component: () => import("@/views/staff/StaffCaseView.vue"),
    props: true,
    meta: { requiresAuth: true, kinds: ["staff", "operator"] },
  },
  {
    path: "/staff/rectifications",
    name: "rectifications",
    component: () => import("@/views/staff/RectificationsView.vue"),
    meta: { requiresAuth: true, kinds: ["staff", "operator"] },
  },
  {
    path: "/staff/rectifications/:rectificationId",
    name: "rectification",
    component: () => import("@/views/staff/RectificationView.vue"),
    props: true,
    meta: { requiresAuth: true, kinds: ["staff", "operator"] },
  },
  {
    path: "/staff/escalations",
    name: "escalations",
    component: () => import("@/views/staff/EscalationsView.vue"),
    meta: { requiresAuth: true, kinds: ["staff", "operator"], roles: ["dept_admin"] },
  },
];
