import type { RouteRecordRaw } from "vue-router";

/**
 * The staff's pages (工作台): the department's worklist and its cases,
 * rectifications of bad reviews, escalations, window visits to be rated
 * (一次一评), reviews with their replies, and appeals. Guarded by the viewer's
 * kind and roles; the API decides each call again and its 403 is shown as any
 * error.
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
  {
    path: "/staff/visits",
    name: "staff-visits",
    component: () => import("@/views/staff/VisitsView.vue"),
    // The gateway's WINDOW_CLERK: staff with role window_clerk.
    meta: { requiresAuth: true, kinds: ["staff"], roles: ["window_clerk"] },
  },
  {
    path: "/staff/reviews",
    name: "staff-reviews",
    component: () => import("@/views/staff/ReviewsView.vue"),
    // The gateway lets staff and operators in (RATINGS_STAFF); the ratings
    // service then serves staff with role dept_admin or window_clerk only.
    meta: { requiresAuth: true, kinds: ["staff", "operator"], roles: ["dept_admin", "window_clerk"] },
  },
  {
    path: "/staff/appeals",
    name: "staff-appeals",
    component: () => import("@/views/staff/AppealsView.vue"),
    // Department admins read their own department's; operators read all and decide.
    meta: { requiresAuth: true, kinds: ["staff", "operator"], roles: ["dept_admin"] },
  },
];
