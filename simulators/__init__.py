"""Simulators of outside parties, each a small program of its own with a real
HTTP server, for local runs and tests:

- ``python -m simulators.ems``: EMS's order API and its signed tracking webhooks;
- ``python -m simulators.data_exchange``: other departments' record systems
  (civil affairs, housing) behind the government data exchange platform;
- ``python -m simulators.sms``: the SMS gateway that texts citizens (the rating
  link of a window visit), with each phone's inbox readable for demos and tests.

They share ``server.py`` (the background server, JSON answers, the API key check,
the process's main loop). A simulator knows tongban only by its HTTP API: it
imports no service, no gateway and no tool (operations/tests/unit/test_layers.py).
"""
