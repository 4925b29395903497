"""ordered_map: results in input order whatever the finishing order, bounded work in flight."""
from __future__ import annotations

import random
import threading
import time

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
