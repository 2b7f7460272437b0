"""The same packaging command for many packages: every package in a state (`oms package command
--status S [--channel ID] SLUG`), or those of them an operator selected on the Back Office's
packages page — one implementation for both doors. One broker connection for the whole batch,
every message confirmed by RabbitMQ; then the outcomes are awaited by message id and summed up:
applied, rejected by reason, and pending (no outcome within the timeout).

Web-channel packages are skipped (and counted) for CHANNEL_BASED_COMPLETE_PACKAGING: spec §1 and
§5 say that command does not pack them, so publishing would only fill the transition log with
rejections. A state the slug does not start from is refused before anything is published."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from sqlalchemy import Engine

from adapters.messaging.broker import build_broker
from adapters.messaging.publisher import PACKAGING, publish
from adapters.persistence.unit_of_work import SqlUnitOfWork
from adapters.queries.packages import (
    CommandOutcome,
    PackageRow,
    command_outcomes,
    list_packages,
    status_name,
)
from domain.packaging import COMPLETE_PACKAGING

POLL_SECONDS = 0.5
_STATE = re.compile(r"^package .+? is (\w+); (.+)$", re.DOTALL)
Progress = Callable[[str, int, int], None]  # (stage: "published" | "outcomes", done, of)


class BulkRefused(Exception):
    """Nothing (more) was published: an unknown slug, a state it does not start from, or the
    broker failing part-way (the message says how many were published)."""


def command_body(package: str, slug: str) -> dict[str, object]:
    reference: dict[str, object] = (
        {"package_id": int(package)} if package.isdigit() else {"package_number": package}
    )
    return {**reference, "slug": slug, "input_parameters": {}}


@dataclass
class BulkSummary:
    slug: str
    status: str
    channel_id: int | None
    found: int = 0
    skipped_web_channel: int = 0
    published: int = 0
    applied: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    pending: int = 0

    @property
    def ok(self) -> bool:
        return self.rejected == 0 and self.pending == 0

    def lines(self, timeout: float) -> list[str]:
        where = f"in {self.status}" + (f" of channel {self.channel_id}" if self.channel_id else "")
        lines = [f"{self.slug} for packages {where}: {self.found} found"]
        if self.skipped_web_channel:
            skipped = self.skipped_web_channel
            lines.append(f"skipped   {skipped} (web channel: {self.slug} does not pack them)")
        lines += [f"published {self.published}", f"applied   {self.applied}"]
        lines.append(f"rejected  {self.rejected}")
        for reason, count in sorted(self.rejected_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {count:>6}  {reason}")
        if self.pending:
            lines.append(
                f"pending   {self.pending} (no outcome within {timeout:g} s: are the packaging "
                "workers running? `oms queues` shows the backlog)"
            )
        return lines


def reason_kind(reason: str) -> str:
    """A rejection reason without the package's own number, so that equal causes add up:
    'package X is packed; CMD runs only from …' -> 'CMD runs only from … (package was packed)'."""
    match = _STATE.match(reason)
    return f"{match.group(2)} (package was {match.group(1)})" if match else reason


def run_bulk(
    engine: Engine,
    broker_url: str,
    slug: str,
    status: int,
    channel_id: int | None,
    *,
    timeout: float,
    package_ids: Collection[int] | None = None,
    progress: Progress | None = None,
) -> BulkSummary:
    """Publish SLUG for every package in `status` (of the channel; of `package_ids` when given:
    those of them still in that state), await the outcomes, and sum them up."""
    check_slug(engine, slug, status)
    summary = BulkSummary(slug, status_name(status), channel_id)
    rows = list_packages(engine, status=status, channel_id=channel_id)
    if package_ids is not None:
        chosen = set(package_ids)
        rows = [row for row in rows if row.id in chosen]
    summary.found = len(rows)
    wanted = [row for row in rows if not _skipped(slug, row)]
    summary.skipped_web_channel = len(rows) - len(wanted)
    ids = _publish_all(broker_url, slug, wanted, progress)
    summary.published = len(ids)
    _await(engine, ids, summary, timeout, progress)
    return summary


def check_slug(engine: Engine, slug: str, status: int) -> None:
    """Refuse, before publishing anything, a batch every command of which would be rejected."""
    uow = SqlUnitOfWork(engine)
    with uow:
        starts = sorted(transition.from_status for transition in uow.transitions.for_slug(slug))
    if not starts:
        raise BulkRefused(f"unknown command slug {slug!r}; nothing published")
    if status not in starts:
        names = ", ".join(s.name for s in starts)
        raise BulkRefused(
            f"{slug} runs only from {names}, not {status_name(status)}; nothing published"
        )


def _skipped(slug: str, row: PackageRow) -> bool:
    return slug == COMPLETE_PACKAGING and row.web_channel


def _publish_all(
    broker_url: str, slug: str, rows: list[PackageRow], progress: Progress | None
) -> list[str]:
    """One connection (the broker's, for this thread); each publish returns once RabbitMQ has
    confirmed it, so every id returned is a message the broker holds."""
    if not rows:
        return []
    broker = build_broker(broker_url, [])
    ids: list[str] = []
    try:
        for row in rows:
            message_id = str(uuid.uuid4())
            publish(broker, *PACKAGING, command_body(str(row.id), slug), message_id=message_id)
            ids.append(message_id)
            if progress is not None:
                progress("published", len(ids), len(rows))
    except Exception as error:
        raise BulkRefused(
            f"publishing stopped after {len(ids)} of {len(rows)} commands "
            f"({type(error).__name__}: {error}); run the command again for the rest"
        ) from None
    finally:
        broker.close()
    return ids


def _await(
    engine: Engine,
    ids: list[str],
    summary: BulkSummary,
    timeout: float,
    progress: Progress | None,
) -> None:
    pending = set(ids)
    reasons: Counter[str] = Counter()
    deadline = time.monotonic() + timeout
    while pending:
        for outcome in _take(engine, pending):
            if outcome.outcome == "applied":
                summary.applied += 1
            else:
                summary.rejected += 1
                reasons[reason_kind(outcome.reason)] += 1
        if progress is not None:
            progress("outcomes", len(ids) - len(pending), len(ids))
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    summary.pending = len(pending)
    summary.rejected_by_reason = dict(reasons)


def _take(engine: Engine, pending: set[str]) -> list[CommandOutcome]:
    found = command_outcomes(engine, sorted(pending))
    pending.difference_update(found)
    return list(found.values())
