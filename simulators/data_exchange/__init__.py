"""A stand-in for the province's government data exchange platform
(政务数据共享交换平台): other departments' record systems answering queries by ID
number, for local runs and tests: ``python -m simulators.data_exchange``.

Registers: civil affairs (marriage records) and housing (homes owned per city).
See ``app.py`` for the HTTP API and ``demo.py`` for the records it ships with.
"""
