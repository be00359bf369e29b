import { createApp } from "vue";

import { api } from "@/api";
import { apiKey } from "@/api/provide";
import { createPortalI18n } from "@/i18n";
import { restoreLargeText } from "@/preferences/largeText";
import { createPortalRouter } from "@/router";

import App from "./App.vue";
import "./styles/base.css";

// Before the first paint, so the page does not jump to the larger size.
restoreLargeText();

const i18n = createPortalI18n();
document.documentElement.lang = i18n.global.locale.value;

createApp(App).use(i18n).use(createPortalRouter()).provide(apiKey, api).mount("#app");
