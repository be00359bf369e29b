import { createRouter, createWebHistory, type RouteRecordRaw, type Router, type RouterHistory } from "vue-router";

import { guardRoutes, type Auth } from "@/auth";

import { citizenRoutes } from "./citizen";
import { operatorRoutes } from "./operator";
import { publicRoutes } from "./public";
import { staffRoutes } from "./staff";

// Answers any path no area claims; always last.
const notFound: RouteRecordRaw = {
  path: "/:pathMatch(.*)*",
  name: "not-found",
  component: () => import("@/views/NotFoundView.vue"),
};

/**
 * The portal's routes: the public catalogue first. The areas behind sign-in
 * (a citizen's own cases, the staff worklist, the operator's dashboard) are
 * route modules of their own beside public.ts, each with its guard, listed
 * here before the catch-all.
 */
export const routes: RouteRecordRaw[] = [...publicRoutes, ...citizenRoutes, ...staffRoutes, ...operatorRoutes, notFound];

/** The portal's router; with `auth`, pages marked requiresAuth are guarded (see guardRoutes). */
export function createPortalRouter(history: RouterHistory = createWebHistory("/"), auth?: Auth): Router {
  const router = createRouter({
    history,
    routes,
    scrollBehavior(to, from, savedPosition) {
      if (savedPosition) return savedPosition;
      // Paging and filtering stay put; the view moves focus to its results.
      if (to.path === from.path) return false;
      return { top: 0 };
    },
  });
  if (auth) guardRoutes(router, auth);
  return router;
}
