"""A model's lock: many readers (predictions) or one writer (a training step).

A training step writes the weights (the optimizer) and the layers' state (the
moving statistics of BatchNormalization); ``predict``, ``evaluate`` and
``model(x)`` only read them. Readers run side by side (NumPy releases the GIL
in its matrix products); a writer waits for the readers inside to finish, and
readers that come meanwhile wait for it. The readers waiting when a writer
leaves go in before that writer (or another) writes again, so a predicting
thread is never starved by a training loop that takes the lock at once again.

Both kinds are re-entrant in one thread (a training step may call the model;
a callback of ``predict`` may predict). A thread that reads cannot start
writing (it would wait for itself): that raises instead.

The writer's way in is one plain lock (the *gate*), held for the whole write;
readers pass the gate to register, then let it go. A training step, the hot
path, pays one acquire and one release of that lock, and two integer checks.
"""

from __future__ import annotations

import threading
from _thread import get_ident
from collections.abc import Callable


class _Held:
    """``with lock.read():`` / ``with lock.write():`` (a small class, not a
    generator-based context manager: a training step enters it every time)."""

    __slots__ = ("_acquire", "_release")

    def __init__(self, acquire: Callable[[], None], release: Callable[[], None]):
        self._acquire, self._release = acquire, release

    def __enter__(self) -> None:
        self._acquire()

    def __exit__(self, *exc: object) -> None:
        self._release()


class _Depth(threading.local):
    """This thread's ``read()`` depth and whether it is counted among the
    readers inside (class defaults: a fresh thread reads them without an
    exception)."""

    depth = 0
    counted = False


class ReadWriteLock:
    """Shared (``read()``) or exclusive (``write()``) access, writers first."""

    def __init__(self) -> None:
        self._gate = threading.Lock()  # held by the writer for its whole write
        self._counting = threading.Lock()  # guards the counts
        self._count = threading.Condition(self._counting)
        self._readers = 0  # readers inside
        self._arrived = 0  # readers that came to the gate, ever
        self._passed = 0  # readers that passed it, ever
        self._writer: int | None = None  # the thread that writes
        self._writes = 0  # its nested write() depth
        self._waiting = 0  # writers waiting for readers (whom to notify)
        self._mine = _Depth()  # this thread's read() depth
        self._reading = _Held(self.acquire_read, self.release_read)
        self._writing = _Held(self.acquire_write, self.release_write)

    def read(self) -> _Held:
        """Hold the lock, shared with other readers, for a ``with`` block."""
        return self._reading

    def write(self) -> _Held:
        """Hold the lock alone for a ``with`` block."""
        return self._writing

    def acquire_read(self) -> None:
        mine = self._mine
        depth = mine.depth
        if depth or self._writer == get_ident():
            mine.depth = depth + 1  # already inside: no wait, no count
            return
        count, gate = self._count, self._gate
        if gate.acquire(False):  # NOTE: no writer: arrive and pass at once
            counting = self._counting  # NOTE: the condition's lock, held plainly
            counting.acquire()
            self._arrived += 1
            self._passed += 1
            self._readers += 1
            if self._waiting:
                count.notify_all()
            counting.release()
            gate.release()
        else:
            with count:
                self._arrived += 1
            with gate, count:  # waits while a writer writes
                self._passed += 1
                self._readers += 1
                if self._waiting:  # a writer may wait for the readers before it
                    count.notify_all()
        mine.depth, mine.counted = 1, True

    def release_read(self) -> None:
        mine = self._mine
        depth = mine.depth = mine.depth - 1
        if depth or not mine.counted:
            return
        mine.counted = False
        counting = self._counting
        counting.acquire()
        self._readers -= 1
        if not self._readers and self._waiting:
            self._count.notify_all()  # a writer waits for the readers inside
        counting.release()

    def acquire_write(self) -> None:
        me = get_ident()
        if self._writer == me:
            self._writes += 1
            return
        arrived = self._arrived
        if arrived != self._passed:  # readers came during the last write:
            self._wait_until(lambda: self._passed >= arrived)  # they go first
        self._gate.acquire()
        if self._readers:
            if self._mine.depth:
                self._gate.release()
                raise RuntimeError(
                    "This thread is reading the model (predict, evaluate or a "
                    "call) and cannot change it inside that call: train it or "
                    "set its weights after the call returns."
                )
            self._wait_until(lambda: not self._readers)
        self._writer, self._writes = me, 1

    def release_write(self) -> None:
        if self._writes > 1:
            self._writes -= 1
            return
        self._writer, self._writes = None, 0
        self._gate.release()

    def _wait_until(self, done: Callable[[], bool]) -> None:
        with self._count:
            self._waiting += 1
            try:
                while not done():
                    self._count.wait()
            finally:
                self._waiting -= 1
