import { createApp } from "vue";

import { ApiClient } from "@/api";
import { apiKey } from "@/api/provide";
import { authKey, createAuth, DEFAULT_CLIENT_ID, OidcClient } from "@/auth";
import { signInKey } from "@/components/errorKind";
import { createPortalI18n } from "@/i18n";
import { restoreLargeText } from "@/preferences/largeText";
import { createPortalRouter } from "@/router";

import App from "./App.vue";
import "./styles/base.css";

// Before the first paint, so the page does not jump to the larger size.
restoreLargeText();

const i18n = createPortalI18n();
document.documentElement.lang = i18n.global.locale.value;

// Sign-in through tongban's own OpenID Connect provider, on this origin.
const auth = createAuth(
  new OidcClient({
    origin: window.location.origin,
    clientId: import.meta.env.VITE_OIDC_CLIENT_ID || DEFAULT_CLIENT_ID,
    locale: () => i18n.global.locale.value,
  }),
);
const api = new ApiClient({
  accessToken: () => auth.client.accessToken(),
  onUnauthorized: () => auth.client.renewAfterUnauthorized(),
});
const router = createPortalRouter(undefined, auth);

createApp(App)
  .use(i18n)
  .use(router)
  .provide(apiKey, api)
  .provide(authKey, auth)
  .provide(signInKey, () => void auth.signIn(router.currentRoute.value.fullPath))
  .mount("#app");
