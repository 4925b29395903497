"""ordered_map: results in input order whatever the finishing order, bounded work in flight."""

from __future__ import annotations

import random
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ikmeta.parallel import default_jobs, ordered_map


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=40), st.integers(1, 6))
def test_order_is_kept(delays, jobs):
    def slow(x):
        time.sleep(x / 2000)
        return x

    assert list(ordered_map(slow, delays, jobs)) == delays


def test_at_most_a_bounded_number_in_flight():
    started, lock = [0], threading.Lock()

    def work(i):
        with lock:
            started[0] += 1
        time.sleep(random.random() / 1000)
        return i

    results = ordered_map(work, range(1000), 2)
    first = next(results)
    with lock:
        assert started[0] <= 2 * 4 + 1
    assert [first, *results] == list(range(1000))


def test_one_job_runs_in_the_calling_thread():
    caller = threading.get_ident()
    assert list(ordered_map(lambda _: threading.get_ident(), range(3), 1)) == [caller] * 3


def test_default_jobs():
    assert default_jobs() >= 1


def test_results_are_not_held_back_by_a_slow_source_of_items():
    """A result is yielded as soon as it is ready, even while the next item is still coming
    (a list piped in slowly)."""
    more = threading.Event()

    def items():
        yield 1
        more.wait(10)  # the producer is slow
        yield 2

    results = ordered_map(lambda x: x * 10, items(), 4)
    start = time.monotonic()
    assert next(results) == 10 and time.monotonic() - start < 5
    more.set()
    assert list(results) == [20]


def test_a_failing_source_of_items_raises_in_order():
    def items():
        yield 1
        raise ValueError("list broke")

    results = ordered_map(lambda x: x, items(), 2)
    assert next(results) == 1
    with pytest.raises(ValueError, match=r"^list broke$"):
        next(results)


def test_memory_gate_keeps_the_total_in_flight_within_its_budget():
    from ikmeta.image.limits import MemoryGate

    gate, lock = MemoryGate(100), threading.Lock()
    in_flight, peak = [0], [0]

    def work(size):
        with gate.hold(size):
            with lock:
                in_flight[0] += min(size, 100)
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.002)
            with lock:
                in_flight[0] -= min(size, 100)
        return size

    sizes = [random.Random(k).choice([10, 40, 70, 250]) for k in range(200)]
    assert list(ordered_map(work, sizes, 6)) == sizes  # even work above the budget gets its turn
    assert peak[0] <= 100
