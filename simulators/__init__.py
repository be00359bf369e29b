"""Simulators of outside parties (other departments' record systems), each a
small program of its own with a real HTTP server, for local runs and tests:
``python -m simulators.data_exchange``. The EMS simulator predates this package
and lives with courier (``services.courier.ems_simulator``)."""
