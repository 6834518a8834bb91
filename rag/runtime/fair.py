"""First come, first served: a gate that lets callers in in the order they came."""
from __future__ import annotations

import threading
from collections import deque


class FairGate:
    """At most ``permits`` callers inside at once, let in in the order they came. Requests that
    share a model then finish roughly in the order they came: with no gate, a wave's batches
    interleave on the shared pool and most requests wait for most of the wave."""

    def __init__(self, permits: int = 1) -> None:
        if permits < 1:
            raise ValueError(f"permits={permits}: must be >= 1")
        self.permits = permits
        self._cond = threading.Condition()
        self._free = permits
        self._line: deque = deque()

    @property
    def waiting(self) -> int:
        """How many callers are in line, not yet let in."""
        with self._cond:
            return len(self._line)

    def __enter__(self) -> FairGate:
        me = object()
        with self._cond:
            self._line.append(me)
            while self._line[0] is not me or not self._free:
                self._cond.wait()
            self._line.popleft()
            self._free -= 1
            self._cond.notify_all()  # the next in line may take another free permit
        return self

    def __exit__(self, *exc) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()
