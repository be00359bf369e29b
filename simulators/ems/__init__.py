"""A stand-in for the EMS order API and its tracking webhooks, for local runs and
tests: ``python -m simulators.ems --port 8200``.

See ``app.py`` for the HTTP API, ``simulator.py`` for how a waybill moves and
``webhooks.py`` for the signed scans it reports (``signature.py``).
"""
