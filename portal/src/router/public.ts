import type { RouteRecordRaw } from "vue-router";

import HomeView from "@/views/HomeView.vue";

/** Pages anyone may see without signing in, on the public catalogue API. */
export const publicRoutes: RouteRecordRaw[] = [
  { path: "/", name: "home", component: HomeView },
  {
    path: "/items/:itemId",
    name: "item",
    component: () => import("@/views/ItemGuideView.vue"),
    props: true,
  },
  { path: "/stores", name: "stores", component: () => import("@/views/StoresView.vue") },
];
