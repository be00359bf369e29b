"""A demo department system that signs people in through tongban: the online
service hall of the Suzhou housing provident fund centre (苏州市住房公积金管理中心
网上服务大厅), an OpenID Connect relying party:
``python -m simulators.department_portal --issuer http://127.0.0.1:8000``.

It signs in with the authorization code flow (PKCE S256, state, nonce) through
Authlib's requests client, verifies the ID token against the provider's JWKS,
keeps its sessions in memory and ends them when tongban sends a back-channel
logout. See ``app.py`` for the pages and API, ``provider.py`` for the
provider's side, ``tokens.py`` for the token checks and ``sessions.py`` for
the session store.
"""
