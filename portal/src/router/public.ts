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
  {
    path: "/verify/:licenceNo?",
    name: "verify",
    component: () => import("@/views/VerifyLicenceView.vue"),
    props: (route) => ({ licenceNo: typeof route.params.licenceNo === "string" ? route.params.licenceNo : "" }),
  },
  // 一次一评: the link of the rating SMS is <portal>/rate?token=…; the window's
  // terminal adds channel=window. No sign-in: the token is the proof.
  {
    path: "/rate",
    name: "rate-visit",
    component: () => import("@/views/VisitReviewView.vue"),
    props: (route) => ({
      token: typeof route.query.token === "string" ? route.query.token : "",
      atWindow: route.query.channel === "window",
    }),
  },
  // The OpenID Connect redirect URI, and where a failed start of sign-in lands.
  { path: "/auth/callback", name: "auth-callback", component: () => import("@/views/AuthCallbackView.vue") },
  { path: "/sign-in", name: "sign-in", component: () => import("@/views/SignInView.vue") },
  // Where the guard sends a signed-in reader whose account a page is not for.
  {
    path: "/forbidden",
    name: "forbidden",
    component: () => import("@/views/ForbiddenView.vue"),
    props: (route) => ({ page: typeof route.query.page === "string" ? route.query.page : "" }),
  },
];
