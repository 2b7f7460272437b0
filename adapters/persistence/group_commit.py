"""Group commit: the threads of one worker process hand their unit of work to whichever of them
is committing, which runs several messages' use cases in one transaction and writes their rows
with one statement per table.

How a group runs (GroupCommitter.run):
- A thread submits its work (a use case bound to its input, given a unit of work) and waits.
  If no group is running, it leads: it takes every waiting work (up to `max_batch`) and runs
  them in one transaction. A work that raises before writing anything fails alone; its
  batch-mates go on. (No savepoint per work: that would cost two round trips per message.)
- Rows that can wait (a new order's row with an id reserved for the group, its lines, outbox
  rows, merchant orders with their items and packages, the merchant log, split marks) are
  collected per work and written for the whole group after the last work ran: one multi-row
  statement per table (GroupWrites.flush). An order already stored fails the orders' insert
  on its unique key, which sends the group back to one transaction per work (below).
- Then one COMMIT. Only after it does any waiting thread return, so its message is acked only
  once its own data is committed. Each thread publishes its own outbox messages after that.
- If the flush or the COMMIT fails, or a work fails (or leaves without `commit()`) after it
  wrote a row at once, or one of its statements failed, nothing of the group is kept and each
  work runs again alone in a transaction of its own (the use cases are idempotent): the bad
  one alone fails, and is retried or dead-lettered as it would be without grouping.

While a group runs, new work queues up and forms the next group: no timer, no added latency
when the process is idle (a lone message is a group of one)."""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import structlog
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError

from adapters import metrics
from adapters.persistence.driver import WRITES_KEY
from adapters.persistence.group_unit_of_work import GroupReads, GroupUnitOfWork, GroupWrites
from adapters.persistence.unit_of_work import Publisher, SqlUnitOfWork
from domain.messages import OutboxMessage
from domain.ports import UnitOfWork

log = structlog.get_logger(__name__)
_LISTENING = threading.Lock()
R = TypeVar("R")
Work = Callable[[UnitOfWork], R]


class _Alone(Exception):
    """The group cannot keep one work's part: every work runs again alone."""


def _count_writes(
    conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any
) -> None:
    """(Every statement of the engine.) One more statement that changed rows on this database
    connection, in its info, where driver.py counts its own."""
    changes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
    if changes and cursor.rowcount != 0:
        info = conn.info
        info[WRITES_KEY] = info.get(WRITES_KEY, 0) + 1


def _writes(connection: Connection) -> int:
    """Statements that changed rows on this connection so far (compared before and after a
    work): through SQLAlchemy (_count_writes) and on the driver's cursor (driver.py). One
    listener per engine: a listener per group's connection cost 1 % of a worker's CPU."""
    return connection.info.get(WRITES_KEY, 0)


def _from_the_database(error: BaseException) -> bool:
    """A failed statement leaves PostgreSQL's transaction aborted, whatever the work made of it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DBAPIError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Job(Generic[R]):
    def __init__(self, work: Work[R], key: int | None):
        self.work = work
        self.key = key
        self.context = contextvars.copy_context()  # the message's log context
        self.done = False
        self.leads = False  # its thread runs the next group
        self.wake = threading.Event()  # set once it is done, or is to lead
        self.result: R | None = None
        self.error: BaseException | None = None
        self.messages: list[OutboxMessage] = []

    def finish(self, result: R | None = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True


class GroupCommitter:
    """Runs works of one stage in groups (see the module's docstring). A waiting thread is woken
    only when its own work is done or when it is to lead the next group: one wake-up per
    message, however many threads wait."""

    def __init__(self, engine: Engine, publisher: Publisher | None, stage: str, max_batch: int):
        self.engine = engine
        self.publisher = publisher
        self.stage = stage
        self.max_batch = max_batch
        self._pending: list[_Job[Any]] = []
        self._leading = False  # one group at a time per stage and process
        self._lock = threading.Lock()
        self.sizes: deque[int] = deque(maxlen=1000)  # of the last groups (tests, profiling)
        self.fallbacks = 0
        with _LISTENING:
            if not event.contains(engine, "after_cursor_execute", _count_writes):
                event.listen(engine, "after_cursor_execute", _count_writes)

    def run(self, work: Work[R], key: int | None = None) -> R:
        """Run `work` in a group; `key` names the order it will read (loaded for the group)."""
        job: _Job[R] = _Job(work, key)
        with self._lock:
            self._pending.append(job)
            if not self._leading:
                self._leading = job.leads = True
        try:
            while not job.done:
                if job.leads:
                    self._lead(job)
                else:
                    job.wake.wait()
        except BaseException:  # interrupted (time limit, shutdown) before its group ended
            with self._lock:
                if job in self._pending:
                    self._pending.remove(job)
                self._hand_over(job)
            raise
        for variable, value in job.context.items():  # what the use case bound, e.g. order number
            variable.set(value)
        if job.error is not None:
            raise job.error
        if job.messages and self.publisher is not None:
            self.publisher(job.messages)
        return job.result  # type: ignore[return-value]

    def _lead(self, job: _Job[Any]) -> None:
        with self._lock:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        try:
            self._run_group(batch)
        finally:
            for other in batch:
                if not other.done:  # the leader was interrupted: those messages are retried
                    other.finish(error=RuntimeError("the group committing this work stopped"))
                other.wake.set()
            if job.done:
                with self._lock:
                    self._hand_over(job)

    def _hand_over(self, job: _Job[Any]) -> None:
        """(Under the lock.) The oldest waiting work's thread leads next, if any waits."""
        if not job.leads:
            return
        job.leads = False
        if self._pending:
            following = self._pending[0]
            following.leads = True
            following.wake.set()
        else:
            self._leading = False

    def _run_group(self, batch: list[_Job[Any]]) -> None:
        self.sizes.append(len(batch))
        metrics.count("oms_group_commit_groups_total", stage=self.stage)
        metrics.count("oms_group_commit_messages_total", len(batch), stage=self.stage)
        outcomes: list[tuple[Any, BaseException | None, GroupUnitOfWork]] = []
        try:
            with self.engine.connect() as connection, connection.begin():
                writes = GroupWrites()
                reads = GroupReads({job.key for job in batch if job.key is not None}, len(batch))
                for job in batch:
                    result, failure, uow = self._run_shared(job, connection, reads)
                    outcomes.append((result, failure, uow))
                    if uow.committed:
                        writes.extend(uow.writes)
                writes.flush(connection)
        except Exception as error:  # a work or the group's write failed: each work alone
            self.fallbacks += 1
            metrics.count("oms_group_commit_fallbacks_total", stage=self.stage)
            cause = error.__cause__ if isinstance(error, _Alone) else error
            log.warning(
                "group_commit.fallback", stage=self.stage, works=len(batch), error=repr(cause)[:300]
            )
            for job in batch:
                self._run_alone(job)
            return
        for job, (result, failure, uow) in zip(batch, outcomes, strict=True):
            if uow.committed:
                uow.remember_channels()
                job.messages = uow.writes.outbox
            job.finish(result, failure)

    def _run_shared(
        self, job: _Job[Any], connection: Connection, reads: GroupReads
    ) -> tuple[Any, BaseException | None, GroupUnitOfWork]:
        """Run one work in the group's transaction. Its deferred rows are its own until the
        flush; rows it wrote at once (an order's row, a merchant on first sight) are the
        group's. A work that must not keep what it wrote at once (it failed or left without
        commit() after writing), or whose statement failed, raises _Alone: the group is rolled
        back and every work runs in a transaction of its own."""
        uow = GroupUnitOfWork(self.engine, connection, GroupWrites(), reads)
        before = _writes(connection)
        try:
            result = job.context.run(job.work, uow)
        except Exception as error:
            if _writes(connection) > before or _from_the_database(error):
                raise _Alone() from error
            uow.committed = False
            return None, error, uow
        if not uow.committed and _writes(connection) > before:
            raise _Alone() from RuntimeError("a work left without commit() after writing")
        return result, None, uow

    def _run_alone(self, job: _Job[Any]) -> None:
        uow = SqlUnitOfWork(self.engine, publisher=job.messages.extend)
        try:
            result = job.context.run(job.work, uow)
        except Exception as error:
            job.finish(error=error)
            return
        job.finish(result)


class Runner(Protocol):
    def run(self, work: Work[R], key: int | None = None) -> R: ...


class DirectRunner:
    """No grouping (SQLite, or OMS_GROUP_COMMIT=1): each work in a unit of work of its own."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]):
        self.unit_of_work = unit_of_work

    def run(self, work: Work[R], key: int | None = None) -> R:
        return work(self.unit_of_work())
