"""FreezeAfterBoot: once a worker has booted, its start-up objects leave the collector's
generations for the permanent one, so full collections stop walking them."""

from __future__ import annotations

import gc

from adapters.messaging.middleware import FreezeAfterBoot


def test_start_up_objects_are_frozen_after_worker_boot() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        FreezeAfterBoot().after_worker_boot(broker=None, worker=None)  # type: ignore[arg-type]
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
