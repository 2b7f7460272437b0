"""`oms packages list [--status S] [--channel ID] [--json]`: packages with their order, merchant,
status and age (time since the split made them), oldest first."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.persistence.engine import make_engine
from adapters.queries.packages import list_packages
from adapters.settings import Settings
from cli.table import format_rows

HEADER = ["id", "package", "order", "channel", "merchant", "status", "age"]


def human_age(seconds: int) -> str:
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    if days:
        return f"{days}d{hour:02d}h"
    if hours:
        return f"{hours}h{minute:02d}m"
    if minutes:
        return f"{minutes}m{second:02d}s"
    return f"{second}s"


def packages_list(
    status: int | None, channel_id: int | None, *, limit: int | None, as_json: bool
) -> int:
    engine = make_engine(Settings.from_env().database_url, pool_size=1)
    rows = list_packages(engine, status=status, channel_id=channel_id, limit=limit)
    now = datetime.now(UTC)
    if as_json:
        print(json.dumps([row.document(now) for row in rows], indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("no packages")
        return 0
    table = [
        [
            str(row.id),
            row.number,
            row.order_number,
            f"{row.channel_id} {row.channel_name}" + (" (web)" if row.web_channel else ""),
            row.merchant_reference,
            row.status,
            human_age(row.age_seconds(now)),
        ]
        for row in rows
    ]
    print(format_rows([HEADER, *table], numeric={0, 6}))
    print(f"{len(rows)} package{'' if len(rows) == 1 else 's'}")
    return 0
