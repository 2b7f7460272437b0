"""The `oms queues` screen (issue 11, item 5): 80 columns, no rows for queues that are not
declared, stale management figures marked, a failed read shown with the last good one."""

from __future__ import annotations

from typing import Any

from cli.queue_watch import Watch, render


def row(queue: str, declared: bool = True, **figures: Any) -> dict[str, Any]:
    base = {
        "queue": queue,
        "declared": declared,
        "ready": 0,
        "unacked": None,
        "consumers": 0,
        "publish_rate": None,
        "deliver_rate": None,
        "retry_backlog": 0,
        "dead_letter_queue": 0,
        "dead_letters_recorded": 0,
    }
    return {**base, **figures}


def snapshot(source: str, *rows: dict[str, Any]) -> dict[str, Any]:
    return {"broker": "amqp://guest:***@rabbit.example.internal:5672/%2F", "source": source,
            "queues": list(rows)}  # fmt: skip


def test_the_screen_fits_80_columns_and_hides_queues_not_declared() -> None:
    data = snapshot(
        "passive declares (management API not reachable: no unacked counts or rates)",
        row("oms.packaging", ready=1234567, consumers=16, retry_backlog=99999),
        row("oms.merchant", declared=False),
    )
    text = render(data)
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert [line.split()[0] for line in text.splitlines() if line.startswith("oms.")] == [
        "oms.packaging"
    ]
    assert "not declared yet: oms.merchant" in text


def test_management_figures_carried_over_are_marked_stale() -> None:
    reads = [
        snapshot(
            "management API at http://x:15672", row("oms.ingest", unacked=7, publish_rate=2.5)
        ),
        snapshot("passive declares (management API not reachable)", row("oms.ingest", ready=3)),
    ]
    clock = iter([1000.0, 1002.0])
    watch = Watch(lambda: reads.pop(0), clock=lambda: next(clock))
    live = watch.screen()
    assert "7~" not in live and "stale" not in live
    stale = watch.screen()
    line = next(x for x in stale.splitlines() if x.startswith("oms.ingest"))
    assert line.split()[1:4] == ["3", "7~", "0"] and "2.5~" in line
    assert "~ stale: unacked and rates are the management API's of" in stale


def test_a_failed_read_keeps_the_last_figures_and_says_when_they_were_read() -> None:
    def away() -> dict[str, Any]:
        raise ConnectionRefusedError(111, "Connection refused")

    reads = [lambda: snapshot("passive declares", row("oms.ingest", ready=5)), away]
    clock = iter([1000.0, 1012.0])
    watch = Watch(lambda: reads.pop(0)(), clock=lambda: next(clock))
    watch.screen()
    text = watch.screen()
    assert text.startswith("UNAVAILABLE at ") and "Connection refused" in text
    assert "(12 s ago), not live" in text
    assert next(x for x in text.splitlines() if x.startswith("oms.ingest")).split()[1] == "5"


def test_every_stage_queue_is_a_pipeline_queue_listed_in_one_place() -> None:
    """Adding a stage is one line in PIPELINE_QUEUES: `oms queues`, the keeper, the dead-letter
    gauge and `oms dlq` read that list; a stage whose queue is missing there fails here."""
    from adapters.messaging.dead_letter_keeper import PIPELINE_QUEUES
    from cli.worker import STAGES

    consumed = {queue for _module, queues in STAGES.values() for queue in queues}
    assert consumed == set(PIPELINE_QUEUES)
