"""Database access: engines, the unit of work, and the nameko dependency.

A use case does ``with uow: ...; uow.commit()``. Events recorded with
``uow.emit(event)`` go to the outbox table in the same transaction as the change
they describe; the relay (``messaging.relay``) publishes them afterwards.
"""

import functools
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from services.common import metrics, pgdialect
from services.common.messaging.envelope import envelope_for, utcnow


def stored_instant(value: datetime | None) -> datetime | None:
    """An instant read back from the database, in UTC. Instants are stored
    timezone-aware; SQLite hands them back naive (its column has no zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


log = logging.getLogger(__name__)

_psycopg_patched = False


SQLITE_SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


def sqlite_synchronous() -> str:
    """SQLite's ``synchronous`` level: ``SQLITE_SYNCHRONOUS``, NORMAL by default.

    sqlite3 is a C library that eventlet cannot make cooperative: while a commit
    waits for the disk, the whole process waits. In WAL mode, NORMAL syncs the
    log at checkpoints instead of at every commit; a commit stays atomic and
    survives the process being killed (which is what the outbox and the
    handlers' idempotency rely on), and only a power cut or a crash of the
    machine can take back the last commits before a checkpoint. SQLite is the
    embedded default for one machine; PostgreSQL syncs every commit.
    FULL restores a sync per commit.
    """
    level = (os.environ.get("SQLITE_SYNCHRONOUS") or "NORMAL").strip().upper()
    if level not in SQLITE_SYNCHRONOUS_LEVELS:
        choices = ", ".join(SQLITE_SYNCHRONOUS_LEVELS)
        raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {choices}, not {level!r}")
    return level


def make_engine(url: str, pool_size: int = 10) -> sa.Engine:
    """Create an engine that cooperates with eventlet.

    psycopg2 is a C extension: eventlet's monkey patching does not reach its
    sockets, so without psycogreen's wait callback one slow query would block
    every greenthread of the process.

    A pooled PostgreSQL connection is not pinged at every checkout (a round
    trip before every transaction, about one statement in eight of an errand):
    a connection the database closed meanwhile (a restart, an idle timeout) fails
    at its transaction's first statement, before anything of the transaction
    reached the database, and the unit of work runs that statement again on a
    new one (``CoreSession.execute``, ``stale_connection``). The failure also
    tells the pool that every connection it held before is suspect, and those
    are replaced as they are checked out. A transaction begins in its first
    statement's message rather than in a round trip of its own, and statements
    a connection runs often are prepared on it (``pgdialect``).
    """
    global _psycopg_patched
    if url.startswith("sqlite"):
        synchronous = sqlite_synchronous()
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa_event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if url.startswith("postgresql") and "pg8000" not in url and not _psycopg_patched:
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            from psycogreen.eventlet import patch_psycopg

            patch_psycopg()
            _psycopg_patched = True
    url = inline_begin(url)
    options = {"pool_size": pool_size, "max_overflow": pool_size}
    if sa.make_url(url).drivername == pgdialect.NAME:
        options["prepare_after"] = pg_prepare_after()
    return sa.create_engine(url, **options)


def pg_prepare_after() -> int:
    """Runs of a statement on a PostgreSQL connection before it is prepared
    there (``pgdialect``): ``PG_PREPARE_AFTER``, 3 by default. 0 prepares
    nothing, for a connection pooler in transaction mode, which hands each
    transaction whichever server session is free."""
    value = (os.environ.get("PG_PREPARE_AFTER") or str(pgdialect.PREPARE_AFTER)).strip()
    if not value.isdigit():
        raise ValueError(f"PG_PREPARE_AFTER must be a whole number, 0 or more, not {value!r}")
    return int(value)


def inline_begin(url: str) -> sa.URL | str:
    """``url`` on the dialect that begins a transaction in its first statement
    (``pgdialect``) when it names psycopg2, PostgreSQL's default driver."""
    parsed = sa.make_url(url)
    if parsed.drivername not in ("postgresql", "postgresql+psycopg2"):
        return url
    return parsed.set(drivername=pgdialect.NAME)


class CoreSession:
    """What a unit of work asks of a session, on a plain connection.

    Every statement of the services is Core (tables, never mapped classes), so
    the ORM session's identity map, flush and event machinery did nothing but
    cost time: about 20 us a statement and more per commit. A connection is
    taken from the pool at the first statement and given back on ``close``;
    each commit or rollback ends a transaction and the next statement begins
    another, as with a session."""

    __slots__ = ("_engine", "_connection", "_sent", "_opening")

    def __init__(self, engine: sa.Engine):
        self._engine = engine
        self._connection: sa.Connection | None = None
        # Whether a statement has reached the database on the connection.
        self._sent = False
        # The statements run with OPENING that wait to go with the next one.
        self._opening: list[tuple] = []

    @property
    def connection(self) -> sa.Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def execute(self, statement, parameters=None, **options):
        if self._sent:
            return self._connection.execute(statement, parameters, **options)
        if self._connection is None:
            self._connection = self._engine.connect()
        if self._waits_opening(options):
            self._opening.append((statement, parameters, options))
            return self._connection.execute(statement, parameters, **options)
        # The first statement to reach the database: on a connection the
        # database had closed it fails before anything reached the database,
        # and runs once more, after the opening statements that wait for it,
        # on a new connection (see make_engine).
        return self._first(lambda connection: connection.execute(statement, parameters, **options))

    def _waits_opening(self, options: dict) -> bool:
        return isinstance(self._engine.dialect, pgdialect.InlineBeginDialect) and options.get(
            "execution_options", {}
        ).get(pgdialect.OPENING_OPTION, False)

    def _first(self, send):
        try:
            result = send(self._connection)
        except sa_exc.DBAPIError as error:
            if not stale_connection(error):
                self._sent = True
                raise
            self._connection.close()
            self._connection = self._engine.connect()
            for statement, parameters, options in self._opening:
                self._connection.execute(statement, parameters, **options)
            result = send(self._connection)
        self._sent = True
        self._opening.clear()
        return result

    def get_bind(self) -> sa.Engine:
        return self._engine

    def begin_nested(self):
        """A savepoint; as a context manager, rolled back if its block raises."""
        return self.connection.begin_nested()

    def commit(self) -> None:
        if self._connection is None:
            return
        if self._opening:
            # The opening statements go with the commit (see execute).
            self._first(lambda connection: connection.commit())
        else:
            self._connection.commit()

    def rollback(self) -> None:
        self._opening.clear()
        if self._connection is not None:
            self._connection.rollback()

    def close(self) -> None:
        self._opening.clear()
        self._sent = False
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()


# Run a statement whose result is not read with ``execution_options=DEFERRED``:
# on PostgreSQL it may go with the transaction's next statement or its commit,
# in one message (see ``pgdialect``); elsewhere it runs at once.
DEFERRED = {pgdialect.DEFERRED_OPTION: True}

# Run a transaction's first statement whose result is not read with
# ``execution_options=OPENING``: on PostgreSQL it goes, with the BEGIN, in the
# message of the statement after it, or of the commit (see ``pgdialect``,
# ``CoreSession``); elsewhere it runs at once.
OPENING = {pgdialect.OPENING_OPTION: True}


def stale_connection(error: BaseException) -> bool:
    """``error`` is a pooled connection found closed by the database at its
    first use: the connection is invalidated (SQLAlchemy tells a disconnect
    from other errors by the driver's message), and with it every connection
    the pool handed out before."""
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


def core_sessions(engine: sa.Engine) -> Callable[[], CoreSession]:
    """The session factory of a unit of work on ``engine`` (see CoreSession)."""
    return functools.partial(CoreSession, engine)


def paged(session: Session, statement, count_from, condition, order_by, page: int, page_size: int):
    """Page ``page`` (from 1) of the rows of ``statement`` meeting ``condition``
    in ``order_by`` order, and how many rows meet it (counted in ``count_from``)."""
    total = session.execute(
        sa.select(sa.func.count()).select_from(count_from).where(condition)
    ).scalar_one()
    rows = session.execute(
        statement.where(condition)
        .order_by(*order_by)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return rows, int(total)


class UnitOfWork:
    """One database transaction, its repositories and its outbox.

    Subclasses add repositories in :meth:`open_repositories`. A unit of work may
    be entered again after it exits; each ``with`` block is one transaction.
    ``config`` is the service's nameko config (for example ``PII_KEY``), empty
    when the caller gives none.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session | CoreSession],
        source: str,
        correlation_id: str | None = None,
        on_commit=None,
        config: dict | None = None,
    ):
        self._session_factory = session_factory
        self.config: dict = config if config is not None else {}
        self.source = source
        self.correlation_id = correlation_id or uuid.uuid4().hex
        self._on_commit = on_commit
        self.session: Session | CoreSession | None = None
        self._pending_events: list = []

    def open_repositories(self, session: Session) -> None:
        """Attach repositories to ``self``; called on entering each transaction."""

    def __enter__(self):
        self.session = self._session_factory()
        self._pending_events = []
        self.open_repositories(self.session)
        return self

    def __exit__(self, *exc_info):
        try:
            self.rollback()
        finally:
            self.session.close()
            self.session = None

    def emit(self, *events) -> None:
        """Record domain events to be written to the outbox on commit."""
        self._pending_events.extend(events)

    def collect(self, *aggregates) -> None:
        """Emit the events an aggregate recorded (``aggregate.events``) and clear them."""
        for aggregate in aggregates:
            self.emit(*aggregate.events)
            aggregate.events.clear()

    def commit(self) -> list[dict]:
        envelopes = [
            envelope_for(self.source, event, self.correlation_id) for event in self._pending_events
        ]
        if envelopes:
            outbox = self._table("outbox")
            now = utcnow()
            self.session.execute(
                _outbox_insert(outbox),
                [
                    {
                        "event_id": envelope["id"],
                        "event_type": envelope["type"],
                        "envelope": envelope,
                        "created_at": now,
                        "sent_at": None,
                    }
                    for envelope in envelopes
                ],
                execution_options=DEFERRED,
            )
        self.session.commit()
        self._pending_events = []
        for envelope in envelopes:
            metrics.BUSINESS_EVENTS.labels(self.source, envelope["type"]).inc()
        if envelopes and self._on_commit is not None:
            self._on_commit()
        return envelopes

    def rollback(self) -> None:
        self._pending_events = []
        if self.session is not None:
            self.session.rollback()

    def first_delivery(self, envelope: dict, consumer: str) -> bool:
        """Record that ``consumer`` handles this event; False if it already did.

        The record is part of this transaction, so the effect and the record
        commit together. Of two deliveries racing each other, the second waits
        on the key until the first commits, then records nothing and skips
        (PostgreSQL; SQLite writes one transaction at a time).
        """
        handled = self._table("handled_events")
        dialect = self.session.get_bind().dialect.name
        inserted = self.session.execute(
            _record_once(dialect, handled),
            {"event_id": envelope["id"], "consumer": consumer, "handled_at": utcnow()},
        ).rowcount
        if inserted == 0:
            log.info(
                "skipping repeated event",
                extra={"event_id": envelope["id"], "consumer": consumer},
            )
            return False
        return True

    def once(
        self, envelope: dict, consumer: str | Sequence[str], work: Callable[[], object]
    ) -> bool:
        """In one transaction, this unit of work's: record that ``consumer``
        handles this event, run ``work()`` and commit. False, with nothing
        done, when it had handled it.

        As ``first_delivery``, but the record is the transaction's opening
        statement (``OPENING``): on PostgreSQL it reaches the database with the
        first statement of ``work``, in one message, and a repeat is told by the
        record's key refusing it there, which rolls back what ``work`` did.
        What ``work`` checks before its first statement it checks on a repeat
        too. Of two deliveries racing each other, the second waits on the key
        until the first commits, then is refused.

        Several consumers (read models that one handler keeps in one
        transaction) are recorded by one statement, all or none: had any of
        them handled the event, nothing is done (``first_deliveries`` tells
        which, for a handler that then does what is left)."""
        handled = self._table("handled_events")
        names = (consumer,) if isinstance(consumer, str) else tuple(consumer)
        try:
            with self:
                # One statement for all of them: a list of rows would run one each.
                self.session.execute(
                    _handled_rows(handled, len(names)),
                    {
                        "event_id": envelope["id"],
                        "handled_at": utcnow(),
                        **{f"consumer_{index}": name for index, name in enumerate(names)},
                    },
                    execution_options=OPENING,
                )
                work()
                self.commit()
        except sa_exc.IntegrityError as error:
            if not _refused_by_key(error, handled):
                raise
            log.info(
                "skipping repeated event",
                extra={"event_id": envelope["id"], "consumers": list(names)},
            )
            return False
        return True

    def first_deliveries(self, envelope: dict, consumers: Sequence[str]) -> set[str]:
        """Record that each of ``consumers`` handles this event, in one
        statement; those it is the first delivery for (``first_delivery`` for
        several read models that one handler keeps in one transaction)."""
        handled = self._table("handled_events")
        dialect = self.session.get_bind().dialect.name
        now = utcnow()
        taken = self.session.execute(
            _record_once(dialect, handled).returning(handled.c.consumer),
            [
                {"event_id": envelope["id"], "consumer": name, "handled_at": now}
                for name in consumers
            ],
        )
        first = set(taken.scalars())
        if len(first) < len(set(consumers)):
            log.info(
                "skipping repeated event",
                extra={
                    "event_id": envelope["id"],
                    "consumers": sorted(set(consumers) - first),
                },
            )
        return first

    def _table(self, name: str) -> sa.Table:
        bind_metadata = self.metadata
        return bind_metadata.tables[name]

    @property
    def metadata(self) -> sa.MetaData:
        raise NotImplementedError("a service's unit of work names its metadata")


def upsert(session: Session):
    """The INSERT of the session's database that takes ON CONFLICT."""
    return upsert_of(session.get_bind().dialect.name)


def upsert_of(dialect: str):
    """The INSERT of ``dialect`` (its name) that takes ON CONFLICT DO NOTHING
    or DO UPDATE."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two databases tongban runs on
        raise NotImplementedError(f"no upsert for {dialect}")
    return insert


@functools.lru_cache(maxsize=64)
def _record_once(dialect: str, handled: sa.Table):
    """``INSERT ... ON CONFLICT DO NOTHING`` of a handled event: one statement
    that records the first delivery and tells a repeated one (no row), where a
    look then an insert took two. On PostgreSQL, a delivery racing another
    waits for it on the key, then inserts nothing."""
    return upsert_of(dialect)(handled).on_conflict_do_nothing(
        index_elements=["event_id", "consumer"]
    )


def _refused_by_key(error: sa_exc.IntegrityError, table: sa.Table) -> bool:
    """Whether ``error`` is a unique key of ``table`` refusing a row."""
    diag = getattr(error.orig, "diag", None)
    if diag is not None:  # psycopg2
        return getattr(error.orig, "pgcode", None) == "23505" and diag.table_name == table.name
    return str(error.orig).startswith(f"UNIQUE constraint failed: {table.name}.")


@functools.lru_cache(maxsize=64)
def insert_into(table: sa.Table) -> sa.Insert:
    """``INSERT INTO table``, built once: SQLAlchemy keeps a statement's cache
    key on the statement object, so a statement used again is not keyed again."""
    return table.insert()


@functools.lru_cache(maxsize=64)
def _handled_rows(handled: sa.Table, count: int) -> sa.Insert:
    """The handled records of one event for ``count`` consumers, one statement
    built once (``consumer_0``, ``consumer_1``, ...): built from the rows'
    values at every delivery, it was compiled afresh at every delivery."""
    event_id, handled_at = sa.bindparam("event_id"), sa.bindparam("handled_at")
    return handled.insert().values(
        [
            {
                "event_id": event_id,
                "consumer": sa.bindparam(f"consumer_{index}"),
                "handled_at": handled_at,
            }
            for index in range(count)
        ]
    )


@functools.lru_cache(maxsize=8)
def _outbox_insert(outbox: sa.Table) -> sa.Insert:
    """``INSERT INTO outbox`` without fetching the new rows' ``seq`` (nobody
    reads it back): with the RETURNING that would fetch it, the insert could
    not wait for the commit's message (``DEFERRED``) and went in one before."""
    return outbox.insert().inline()


@functools.lru_cache(maxsize=256)
def row_by_key(table: sa.Table, column: str, for_update: bool = False) -> sa.Select:
    """``SELECT`` of the row of ``table`` whose ``column`` is the bound
    parameter ``key`` (locked with ``for_update`` on PostgreSQL), built once per
    table and column: run it with ``{"key": value}``. A statement built for
    every read is built, then keyed for the compiled cache, every time."""
    statement = sa.select(table).where(table.c[column] == sa.bindparam("key"))
    return statement.with_for_update() if for_update else statement


@functools.lru_cache(maxsize=256)
def update_by_key(table: sa.Table, column: str) -> sa.Update:
    """``UPDATE`` of the row of ``table`` whose ``column`` is the bound
    parameter ``where_key``, built once: run it with ``{"where_key": value,
    <column>: <new value>, ...}`` and it sets the columns the parameters name."""
    return table.update().where(table.c[column] == sa.bindparam("where_key"))


@functools.lru_cache(maxsize=256)
def delete_by_key(table: sa.Table, column: str) -> sa.Delete:
    """``DELETE`` of the rows of ``table`` whose ``column`` is the bound
    parameter ``key``, built once."""
    return table.delete().where(table.c[column] == sa.bindparam("key"))


@functools.lru_cache(maxsize=256)
def insert_absent(dialect: str, table: sa.Table, *index_columns: str) -> sa.Insert:
    """``INSERT ... ON CONFLICT (index_columns) DO NOTHING`` of ``dialect``,
    built once: run it with the row's values as parameters."""
    return upsert_of(dialect)(table).on_conflict_do_nothing(index_elements=list(index_columns))


@functools.lru_cache(maxsize=256)
def create_or_lock(dialect: str, table: sa.Table, column: str) -> sa.Insert:
    """One statement that answers the row of ``table`` keyed by ``column``,
    inserting it from the parameters when there is none, and locks it until
    the transaction ends (PostgreSQL: ``ON CONFLICT DO UPDATE`` locks the row
    it finds; SQLite writes one transaction at a time). Of two transactions
    creating one row at once, the second waits for the first, then finds its
    row. Where an insert that does nothing and a locking read took two."""
    statement = upsert_of(dialect)(table)
    return statement.on_conflict_do_update(
        index_elements=[column], set_={column: statement.excluded[column]}
    ).returning(*table.c)
