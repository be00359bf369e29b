"""psycopg2 with each transaction begun in its first statement's message.

psycopg2 begins a transaction by sending ``BEGIN`` on its own and waiting for
the answer before the first statement: a round trip per transaction, about one
in six of an errand's. Under eventlet each round trip also costs a wait on the
socket and two switches of greenthread, in a process whose CPU is the limit.

This dialect keeps the driver in autocommit (it never sends ``BEGIN`` itself)
and sends ``BEGIN;`` in front of a statement that finds the connection outside
a transaction, one message for both; ``COMMIT`` and ``ROLLBACK`` are sent when
the connection is inside one. libpq knows the server's transaction status from
the last answer (``connection.info.transaction_status``), so telling costs no
round trip. What SQLAlchemy and the services see is unchanged: every statement
runs in a transaction that a commit or a rollback ends, savepoints included.

Only the default isolation level (READ COMMITTED) is offered: an engine that
needs another, or a connection used raw through the driver's own transactions
(``COPY`` into a temporary table dropped on commit), takes a plain engine.
"""

from psycopg2 import extensions
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

NAME = "postgresql+psycopg2_inline_begin"

_IDLE = extensions.TRANSACTION_STATUS_IDLE


def _begun(cursor, statement: str) -> str:
    if cursor.connection.info.transaction_status == _IDLE:
        return "BEGIN;" + statement
    return statement


def _outside_transaction(connection) -> bool:
    """The server's status of the driver's connection (SQLAlchemy hands the
    dialect its pool's proxy, whose ``info`` is a dictionary of its own)."""
    driver_connection = getattr(connection, "dbapi_connection", connection)
    return driver_connection.info.transaction_status == _IDLE


def _send(connection, command: str) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute(command)
    finally:
        cursor.close()


class InlineBeginDialect(PGDialect_psycopg2):
    supports_statement_cache = True

    def on_connect(self):
        driver_setup = super().on_connect()

        def on_connect(dbapi_connection):
            if driver_setup is not None:
                driver_setup(dbapi_connection)
            dbapi_connection.autocommit = True

        return on_connect

    def set_isolation_level(self, dbapi_connection, level):
        if level != "READ COMMITTED":
            raise NotImplementedError(
                f"{NAME} runs READ COMMITTED only, not {level}: use a plain engine"
            )

    def do_execute(self, cursor, statement, parameters, context=None):
        cursor.execute(_begun(cursor, statement), parameters)

    def do_execute_no_params(self, cursor, statement, context=None):
        cursor.execute(_begun(cursor, statement))

    def do_executemany(self, cursor, statement, parameters, context=None):
        # Rare (an insert of many rows is one statement): its own BEGIN.
        if cursor.connection.info.transaction_status == _IDLE:
            cursor.execute("BEGIN")
        super().do_executemany(cursor, statement, parameters, context)

    # Outside a transaction there is nothing to end. In one, or on a broken
    # connection (which fails the command, as the driver's own would), the
    # command is sent.

    def do_commit(self, dbapi_connection):
        if not _outside_transaction(dbapi_connection):
            _send(dbapi_connection, "COMMIT")

    def do_rollback(self, dbapi_connection):
        if not _outside_transaction(dbapi_connection):
            _send(dbapi_connection, "ROLLBACK")


registry.register(NAME.replace("+", "."), __name__, "InlineBeginDialect")
