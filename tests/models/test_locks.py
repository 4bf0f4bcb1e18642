"""The model's reader/writer lock: readers together, a writer alone, readers
not starved by a writer that comes back at once, re-entrant in one thread."""

from __future__ import annotations

import threading
import time

import pytest

from glassnet.models.locks import ReadWriteLock


def _start(target, *args):
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_readers_hold_the_lock_together():
    lock, inside, both = ReadWriteLock(), [], threading.Barrier(2, timeout=5)

    def read():
        with lock.read():
            inside.append(1)
            both.wait()  # only passes if the two readers are inside at once

    threads = [_start(read) for _ in range(2)]
    for thread in threads:
        thread.join(5)
    assert inside == [1, 1]


def test_a_writer_waits_for_the_readers_and_holds_the_lock_alone():
    lock, events = ReadWriteLock(), []
    reading, release = threading.Event(), threading.Event()

    def read():
        with lock.read():
            reading.set()
            release.wait(5)
            events.append("reader out")

    def write():
        with lock.write():
            events.append("writer in")

    reader = _start(read)
    reading.wait(5)
    writer = _start(write)
    time.sleep(0.05)
    assert events == []  # the writer waits for the reader inside
    release.set()
    reader.join(5)
    writer.join(5)
    assert events == ["reader out", "writer in"]


def test_readers_that_wait_go_before_the_writer_comes_back():
    lock, steps, reads = ReadWriteLock(), [0], []
    stop = threading.Event()

    def train():  # takes the lock again as soon as it lets it go
        while not stop.is_set():
            with lock.write():
                steps[0] += 1
                time.sleep(0.001)

    trainer = _start(train)
    for _ in range(20):
        with lock.read():
            reads.append(steps[0])
    stop.set()
    trainer.join(5)
    assert len(reads) == 20 and reads[-1] <= steps[0]
    assert reads[-1] < 200  # each read waited about one step, not for the end


def test_the_lock_is_re_entrant_in_one_thread():
    lock = ReadWriteLock()
    with lock.write(), lock.write(), lock.read(), lock.write():
        pass
    with lock.read(), lock.read():
        pass
    with lock.write():  # everything was released
        pass


def test_writing_inside_a_read_raises_instead_of_waiting_forever():
    lock = ReadWriteLock()
    with lock.read(), pytest.raises(RuntimeError, match="cannot change it"):
        with lock.write():
            pass
    with lock.write():  # the failed attempt left nothing held
        pass
