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

A statement whose result nobody reads (a counter's upsert, a row of the
timeline, the outbox's rows) may also wait, when its repository runs it with
the execution option ``db.DEFERRED``: it is rendered with its values and sent in
front of the transaction's next statement, or with its ``COMMIT``, in the same
message. A command's writes then cost one round trip with their commit instead
of one each. Its error, if any (a constraint, a lost connection), is raised by
the statement or the commit it went with, inside the same transaction, which
fails as a whole as before. A statement with ``RETURNING``, which has a
result, is never deferred; nor is a transaction's first statement, so that a
connection the database closed is still found at it (``db.make_engine``),
unless it is run with the execution option ``db.OPENING``: then it waits, with
the ``BEGIN``, for the statement after it, and the session that ran it replays
both on a new connection should that one find the connection closed
(``db.CoreSession``).

Only the default isolation level (READ COMMITTED) is offered: an engine that
needs another, or a connection used raw through the driver's own transactions
(``COPY`` into a temporary table dropped on commit), takes a plain engine.
"""

import weakref

from psycopg2 import extensions
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

NAME = "postgresql+psycopg2_inline_begin"

_IDLE = extensions.TRANSACTION_STATUS_IDLE

# The execution option of a statement whose result is not read (see the
# module; ``db.DEFERRED``).
DEFERRED_OPTION = "deferred"
# The same for a transaction's first statement (``db.OPENING``).
OPENING_OPTION = "opening"

# Rendered statements waiting to go, per driver connection: the connection's
# transaction has begun, or begins with the first of them (an opening
# statement, which carries the BEGIN).
_WAITING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _driver(connection):
    """The driver's connection (SQLAlchemy hands the dialect its pool's proxy
    at commit and rollback, whose ``info`` is a dictionary of its own)."""
    return getattr(connection, "dbapi_connection", connection)


def _message(cursor, statement, parameters=None):
    """``statement`` with what waits in front, and ``BEGIN`` in front of all
    when the connection is outside a transaction: (text, parameters)."""
    waiting = _WAITING.pop(cursor.connection, None)
    if waiting:
        if parameters is not None:
            rendered = cursor.mogrify(statement, parameters)
        else:
            rendered = statement.encode(extensions.encodings[cursor.connection.encoding])
        return b";".join([*waiting, rendered]), None
    if cursor.connection.info.transaction_status == _IDLE:
        return "BEGIN;" + statement, parameters
    return statement, parameters


def _waits(cursor, context) -> bool:
    if context is None:
        return False
    options = context.execution_options
    if not options.get(OPENING_OPTION, False):
        if not options.get(DEFERRED_OPTION, False):
            return False
        connection = cursor.connection
        if connection.info.transaction_status == _IDLE and connection not in _WAITING:
            return False  # a transaction's first statement (see the module)
    return context.compiled is not None and not context.compiled.effective_returning


def _send(connection, command: bytes) -> None:
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
        if _waits(cursor, context):
            rendered = cursor.mogrify(statement, parameters)
            waiting = _WAITING.get(cursor.connection)
            if waiting is not None:
                waiting.append(rendered)
            elif cursor.connection.info.transaction_status == _IDLE:
                # An opening statement: the transaction begins with it.
                _WAITING[cursor.connection] = [b"BEGIN;" + rendered]
            else:
                _WAITING[cursor.connection] = [rendered]
            return
        cursor.execute(*_message(cursor, statement, parameters))

    def do_execute_no_params(self, cursor, statement, context=None):
        cursor.execute(*_message(cursor, statement))

    def do_executemany(self, cursor, statement, parameters, context=None):
        # Rare (an insert of many rows is one statement): what waits, or a
        # BEGIN, goes in a message of its own.
        waiting = _WAITING.pop(cursor.connection, None)
        if waiting:
            cursor.execute(b";".join(waiting))
        elif cursor.connection.info.transaction_status == _IDLE:
            cursor.execute("BEGIN")
        super().do_executemany(cursor, statement, parameters, context)

    # Outside a transaction there is nothing to end. In one, or on a broken
    # connection (which fails the command, as the driver's own would), the
    # command is sent; a commit takes what waits, a rollback drops it.

    def do_commit(self, dbapi_connection):
        driver = _driver(dbapi_connection)
        waiting = _WAITING.pop(driver, None) or []
        if waiting or driver.info.transaction_status != _IDLE:
            _send(driver, b";".join([*waiting, b"COMMIT"]))

    def do_rollback(self, dbapi_connection):
        driver = _driver(dbapi_connection)
        _WAITING.pop(driver, None)
        if driver.info.transaction_status != _IDLE:
            _send(driver, b"ROLLBACK")


registry.register(NAME.replace("+", "."), __name__, "InlineBeginDialect")
