"""A stand-in for the payment platform (网上支付平台) and its cashier, for local
runs and tests: ``python -m simulators.payment --port 8500``.

See ``app.py`` for the HTTP API and the cashier, ``orders.py`` for how an order
moves (pending -> paid -> refunded, or cancelled, or expired) and
``notices.py`` for the signed notices it sends when an order is paid.
"""
