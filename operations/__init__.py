"""The tools that know every service, apart from the library the services share.

``runner`` runs one service process, ``migrate`` is the deploy step (every
database and the broker topology), ``local_cluster`` is ``make run``,
``dead_letters`` is the operator's look at failed events and ``healthcheck`` the
image's HEALTHCHECK. They import the services; ``services/common`` and the
services never import them (``operations/tests/unit/test_layers.py`` holds that).
"""
