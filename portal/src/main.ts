import { createApp } from "vue";

import { ApiClient } from "@/api";
import { apiKey } from "@/api/provide";
import { authKey, createAuth, DEFAULT_CLIENT_ID, OidcClient } from "@/auth";
import { signInKey } from "@/components/errorKind";
import { createPortalI18n, DEFAULT_LOCALE, type PortalI18n } from "@/i18n";
import { restoreLargeText } from "@/preferences/largeText";
import { createPortalRouter } from "@/router";

import App from "./App.vue";
import "./styles/base.css";

// Before the first paint, so the page does not jump to the larger size.
restoreLargeText();

let i18n: PortalI18n | null = null;

// Sign-in through tongban's own OpenID Connect provider, on this origin; a
// kept sign-in is renewed at once, while the page's language is read.
const auth = createAuth(
  new OidcClient({
    origin: window.location.origin,
    clientId: import.meta.env.VITE_OIDC_CLIENT_ID || DEFAULT_CLIENT_ID,
    locale: () => i18n?.global.locale.value ?? DEFAULT_LOCALE,
  }),
);
const api = new ApiClient({
  accessToken: () => auth.client.accessToken(),
  onUnauthorized: () => auth.client.renewAfterUnauthorized(),
});
const router = createPortalRouter(undefined, auth);

// A reader who chose English before sees it from the first paint; should its
// messages not come, the portal opens in Chinese.
void createPortalI18n()
  .catch(() => createPortalI18n(DEFAULT_LOCALE))
  .then((loaded) => {
    i18n = loaded;
    document.documentElement.lang = loaded.global.locale.value;
    createApp(App)
      .use(loaded)
      .use(router)
      .provide(apiKey, api)
      .provide(authKey, auth)
      .provide(signInKey, () => void auth.signIn(router.currentRoute.value.fullPath))
      .mount("#app");
  });
