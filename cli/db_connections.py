"""`oms db connections [--scale ingest=2,split=2]`: the stack's connection budget (spec 13)."""

from __future__ import annotations

from adapters.persistence.budget import parse_scale, server, stack
from adapters.persistence.engine import make_engine
from adapters.settings import Settings


def report(scale_text: str, api_workers: int) -> int:
    settings = Settings.from_env()
    try:
        scale = parse_scale(scale_text)
    except ValueError as error:
        raise SystemExit(f"--scale: {error}") from None
    lines = stack(settings, scale, api_workers)
    print(f"{'process type':<14}{'each':>6}{'x':>4}{'total':>7}")
    for line in lines:
        print(f"{line.kind:<14}{line.each:>6}{line.count:>4}{line.total:>7}")
    total = sum(line.total for line in lines)
    print(f"{'stack':<14}{'':>6}{'':>4}{total:>7}")
    where = "PgBouncer clients" if settings.pooled else "PostgreSQL connections"
    print(f"at most {total} {where} for this stack (idle: closed after "
          f"{settings.db_idle_seconds:g} s unused)")  # fmt: skip
    if settings.pooled:
        print(
            "behind PgBouncer (transaction pooling): the server sees at most the pooler's "
            "default_pool_size per database and user, whatever the stack's total"
        )
    engine = make_engine(settings.database_url, pool_size=1, connect_timeout=5)
    try:
        found = server(engine)
    except Exception as error:
        print(f"server: not reachable ({type(error).__name__}); nothing compared")
        return 1
    finally:
        engine.dispose()
    print(
        f"server: max_connections {found.max_connections}, {found.reserved} reserved for "
        f"superusers, {found.in_use} in use now, {found.available} available"
    )
    if settings.pooled:
        return 0
    usable = found.max_connections - found.reserved
    if total > usable:
        print(f"DOES NOT FIT: {total} > {usable} (max_connections less the reserved ones)")
        return 1
    if total > found.available:
        print(f"fits the server ({total} <= {usable}) but not beside what is in use now")
        return 1
    print(f"fits: {total} <= {found.available} available now")
    return 0
