"""A stand-in for the SMS gateway (短信平台) that texts citizens, such as the
rating link of a window visit, for local runs and tests:
``python -m simulators.sms``.

Messages are "delivered" at once into an inbox per phone, which the demo and the
tests read over HTTP. See ``app.py`` for the HTTP API and ``messages.py`` for
the message store.
"""
