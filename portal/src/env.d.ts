/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The portal's client_id at tongban's OpenID Connect provider (default "tongban-portal"). */
  readonly VITE_OIDC_CLIENT_ID?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
