"""rag.FairGate: callers are let in in the order they came, ``permits`` at once."""
import threading
import time

import pytest

from rag import FairGate


def _serve(permits: int, callers: int) -> tuple[list[int], int]:
    """``callers`` threads arrive one after the other (each in line before the next comes)
    while the first ``permits`` hold the gate; returns (the order they were let in, the most
    inside at once)."""
    gate = FairGate(permits)
    served, inside, most = [], [0], [0]
    lock, hold = threading.Lock(), threading.Event()

    def work(i: int) -> None:
        with gate:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                served.append(i)
            if i < permits:
                hold.wait(5)
            with lock:
                inside[0] -= 1

    threads = []
    for i in range(callers):
        threads.append(threading.Thread(target=work, args=(i,)))
        threads[-1].start()
        deadline = time.time() + 5
        while gate.waiting < max(0, i + 1 - permits) and time.time() < deadline:
            time.sleep(0.001)
    hold.set()
    for t in threads:
        t.join(5)
    return served, most[0]


@pytest.mark.parametrize("permits", [1, 2, 3])
def test_callers_are_let_in_in_arrival_order_permits_at_once(permits):
    served, most = _serve(permits, 9)
    assert sorted(served[:permits]) == list(range(permits))
    assert served[permits:] == list(range(permits, 9))
    assert most == permits


def test_no_permit_is_refused():
    with pytest.raises(ValueError, match="permits=0"):
        FairGate(0)
