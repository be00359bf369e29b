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

A statement that a connection has run ``prepare_after`` times (an argument of
the engine; ``db.make_engine`` takes ``PG_PREPARE_AFTER``, 3 by default, 0 for
never) is prepared on it (``PREPARE``) and run from then on as ``EXECUTE
name(values)``: the server parses, analyses and plans it once per connection
instead of at every run, about two fifths of its CPU for an errand's
statements. A connection prepares what is due when it is outside a
transaction, in a message of its own before the next transaction's first
statement, so that a statement the server cannot prepare (a parameter whose
type it cannot tell) is only remembered as such and fails nothing. Only
statements with a compiled form whose text does not change with their values
are prepared (``SELECT``, ``INSERT``, ``UPDATE``, ``DELETE``, ``WITH``; not an
``IN`` of a list, which SQLAlchemy renders anew for each length). The server
plans a prepared statement again after a migration changes a table it reads;
only a change of the type of a column it returns fails it, as that change
would fail the code reading the column anyway. Prepared statements belong to
the server's session: a connection pooler in transaction mode in between needs
``PG_PREPARE_AFTER=0``.

Only the default isolation level (READ COMMITTED) is offered: an engine that
needs another, or a connection used raw through the driver's own transactions
(``COPY`` into a temporary table dropped on commit), takes a plain engine.
"""

import itertools
import re
import weakref
from collections import Counter

import psycopg2
import psycopg2.errors
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


# Runs of a statement on a connection before it is prepared there, unless the
# engine says otherwise (see the module); 0 never prepares.
PREPARE_AFTER = 3

# What each driver connection has prepared (see the module).
_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_PREPARABLE = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%")
_NAMES = (f"tongban_{number}" for number in itertools.count(1))


# What one connection keeps: past these, it prepares nothing more, and counts
# runs and remembers refusals afresh (statements whose text changes with their
# values, an IN of a list or values rendered in, are many).
_MOST_PREPARED = 500
_MOST_COUNTED = 2000
# The server's answer to a PREPARE it cannot do (an unknown parameter type, a
# statement that cannot be prepared); a name it holds already is 42P05.
_NOT_PREPARABLE = (psycopg2.ProgrammingError, psycopg2.DataError, psycopg2.NotSupportedError)
_DUPLICATE_PREPARED = "42P05"


class _Statements:
    """The statements one connection has prepared, will not, and is about to."""

    __slots__ = ("executes", "refused", "runs", "due")

    def __init__(self):
        self.executes: dict[str, str] = {}  # statement -> its EXECUTE, with placeholders
        self.refused: set[str] = set()  # not to be prepared (shape, or the server said no)
        self.runs: Counter = Counter()
        self.due: dict[str, tuple[str, str]] = {}  # statement -> (PREPARE, EXECUTE)

    def form(self, statement: str, context, prepare_after: int) -> str:
        """The statement as the connection runs it: its EXECUTE once prepared;
        counts the run and marks it due when it has run often enough."""
        execute = self.executes.get(statement)
        if execute is not None:
            return execute
        if statement in self.refused or statement in self.due:
            return statement
        if len(self.executes) >= _MOST_PREPARED or not _preparable(statement, context):
            if len(self.refused) >= _MOST_COUNTED:
                self.refused.clear()
            self.refused.add(statement)
            return statement
        if len(self.runs) >= _MOST_COUNTED:
            self.runs.clear()
        self.runs[statement] += 1
        if self.runs[statement] >= prepare_after:
            del self.runs[statement]
            self.due[statement] = _prepared_form(statement)
        return statement

    def prepare_due(self, cursor) -> None:
        """Send the due PREPAREs, outside a transaction: all in one message, or
        one at a time when one fails, to learn which (see the module)."""
        due, self.due = self.due, {}
        try:
            cursor.execute(";".join(prepare for prepare, _ in due.values()))
        except _NOT_PREPARABLE:
            if len(due) == 1:
                self.refused.update(due)
                return
            for statement, (prepare, execute) in due.items():
                try:
                    cursor.execute(prepare)
                except _NOT_PREPARABLE as error:
                    if error.pgcode != _DUPLICATE_PREPARED:  # else taken by the message
                        self.refused.add(statement)
                        continue
                self.executes[statement] = execute
            return
        for statement, (_, execute) in due.items():
            self.executes[statement] = execute


def _prepared_form(statement: str) -> tuple[str, str]:
    """(``PREPARE name AS ...`` with ``$n``, ``EXECUTE name(%(p)s, ...)``) of a
    statement in the driver's ``pyformat`` (see the module)."""
    name = next(_NAMES)
    order: list[str] = []

    def number(match: re.Match) -> str:
        parameter = match.group(1)
        if parameter is None:
            return "%"  # %% is a literal percent sign
        if parameter not in order:
            order.append(parameter)
        return f"${order.index(parameter) + 1}"

    body = _PLACEHOLDER.sub(number, statement)
    arguments = ", ".join(f"%({parameter})s" for parameter in order)
    execute = f"EXECUTE {name}({arguments})" if order else f"EXECUTE {name}"
    return f"PREPARE {name} AS {body}", execute


def _preparable(statement: str, context) -> bool:
    compiled = None if context is None else context.compiled
    return (
        compiled is not None
        and _PREPARABLE.match(statement) is not None
        and not getattr(compiled, "post_compile_params", True)
        and not getattr(compiled, "literal_execute_params", True)
    )


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
        _run(cursor, command)
    finally:
        cursor.close()


def _run(cursor, *message) -> None:
    """Send a message; should the server no longer hold what the connection
    prepared (a ``DEALLOCATE ALL`` or ``DISCARD ALL`` sent past this dialect),
    the statement fails, and the connection prepares afresh from then on."""
    try:
        cursor.execute(*message)
    except psycopg2.errors.InvalidSqlStatementName:
        _PREPARED.pop(cursor.connection, None)
        raise


class InlineBeginDialect(PGDialect_psycopg2):
    supports_statement_cache = True

    def __init__(self, prepare_after: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.prepare_after = PREPARE_AFTER if prepare_after is None else int(prepare_after)

    def _form(self, cursor, statement: str, context) -> str:
        """The statement as this connection runs it (see the module); what is
        due to be prepared is prepared first when the connection is outside a
        transaction with nothing waiting."""
        if not self.prepare_after or context is None:
            return statement
        connection = cursor.connection
        statements = _PREPARED.get(connection)
        if statements is None:
            statements = _PREPARED[connection] = _Statements()
        if (
            statements.due
            and connection.info.transaction_status == _IDLE
            and connection not in _WAITING
        ):
            statements.prepare_due(cursor)
        return statements.form(statement, context, self.prepare_after)

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
        statement = self._form(cursor, statement, context)
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
        _run(cursor, *_message(cursor, statement, parameters))

    def do_execute_no_params(self, cursor, statement, context=None):
        _run(cursor, *_message(cursor, statement))

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
