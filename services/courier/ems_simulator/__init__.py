"""A stand-in for the EMS order API and its tracking webhooks, for local runs and
tests: ``python -m services.courier.ems_simulator --port 8200``."""
