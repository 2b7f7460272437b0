"""dramatiq's Retries, made safe for a broker that refuses the retry.

dramatiq publishes a failed message's retry to `.DQ` in an after-hook and then acks the original;
when the publish fails (a memory or disk alarm, a reject-publish policy, a closed channel,
a blocked connection) the broker only logs the error and the ack loses the message. Here a
refused retry puts the original back on its queue instead (nack with requeue, after a pause so
an outage is not a busy loop): it is handled again, as the same attempt."""

from __future__ import annotations

import time
from typing import Any

import dramatiq
import structlog
from dramatiq.middleware import Interrupt, Retries

from adapters.messaging.consumer import requeue_instead_of_ack

log = structlog.get_logger(__name__)


class SafeRetries(Retries):
    def __init__(self, *, requeue_pause: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requeue_pause = requeue_pause

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        if exception is None:
            return
        if isinstance(exception, dramatiq.Retry) and exception.delay is not None:
            # Retry-After from a partner: held in .DQ no longer than any other retry
            exception.delay = min(exception.delay, self.max_backoff)
        try:
            super().after_process_message(broker, message, result=result, exception=exception)
        except (Exception, Interrupt) as error:
            if message.failed:  # dead-lettered anyway: nothing to retry
                return
            log.error(
                "message.retry_not_stored",
                message_id=message.message_id,
                error=type(error).__name__,
                requeue_in_s=self.requeue_pause,
            )
            requeue_instead_of_ack(message)
            time.sleep(self.requeue_pause)
