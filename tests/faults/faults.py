"""Fault injectors: what the scenarios do to the processes and the broker."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from tests.support.backends import NatsServer


def kill_nats(server: NatsServer) -> None:
    """SIGKILL the broker: no flush, no goodbye to its clients."""
    if server.process is not None and server.process.poll() is None:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    server.process = None


class Background:
    """A function running in a thread while the scenario injects faults; errors resurface."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.result: Any = None

        def target() -> None:
            try:
                self.result = fn(*args, **kwargs, until=self.stop)
            except BaseException as exc:  # noqa: BLE001 - re-raised in join()
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 300.0) -> Any:
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the workload did not finish"
        if self.error is not None:
            raise self.error
        return self.result
