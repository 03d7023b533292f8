"""Ctrl-C and SIGTERM while training: the first asks to stop after the current update and save, a second quits.

Python runs signal handlers in the main thread only, between bytecodes: a main thread blocked inside a
compiled XLA call (one training update can take a minute) would hear a Ctrl-C only when the call returns.
:func:`run_interruptible` therefore runs such calls in a worker thread while the main thread waits in short
timeouts, so the handler answers at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

POLL_S = 0.1  # how often the waiting main thread wakes (signal handlers run at the latest then)


def run_interruptible(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a daemon thread while this thread waits, so its signal handlers run at once; returns
    the result or re-raises fn's exception. A KeyboardInterrupt from a handler leaves the worker behind
    (a daemon thread: it does not hold up the exit)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = err

    worker = threading.Thread(target=work, name="mjx-myoassist-update", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(POLL_S)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class StopRequests:
    """While training, the first Ctrl-C (SIGINT) or SIGTERM asks to stop after the current update and save
    (acknowledged at once with ``plan()``'s text, e.g. how long the update and the save take); a second one
    raises KeyboardInterrupt at once, without saving."""

    def __init__(self, plan: Callable[[], str] = lambda: "stopping after the current update, then saving") -> None:
        self.requested: str | None = None
        self.forced = False
        self._plan = plan
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.requested is not None:
            self.forced = True
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        print(f"\n{self.requested}: {self._plan()}. Again: quit at once, without saving.", flush=True)

    def __exit__(self, *_exc: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def agreed(self) -> bool:
        """Whether to stop now; with several processes, when any of them was asked (they stop at the same update)."""
        asked = self.requested is not None
        if jax.process_count() == 1:
            return asked
        from jax.experimental import multihost_utils

        return bool(multihost_utils.process_allgather(np.asarray(asked)).any())
