"""Load many (damaged) files in one process and report each outcome.

Usage: ``python fuzz_worker.py LIST SECONDS`` where LIST holds a base model
file on its first line, then one file per line. A ``.keras`` file goes to
``load_model``; a ``.weights.h5`` file to ``load_weights`` of the base model.
For each file the worker prints ``<i>\\tstart`` before and ``<i>\\t<outcome>``
after, where the outcome is ``loaded``, ``FileFormatError``, ``timeout``
(SIGALRM after SECONDS) or ``other\\t<exception>``. A crash or a hang that
the alarm cannot interrupt is what the parent's watchdog sees.
"""

from __future__ import annotations

import signal
import sys
import warnings


class Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise Timeout()


def main() -> None:
    from glassnet.models import load_model
    from glassnet.saving import FileFormatError

    warnings.simplefilter("ignore")
    with open(sys.argv[1]) as listing:
        base, *paths = listing.read().split("\n")
    seconds = float(sys.argv[2])
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    model = load_model(base)
    signal.signal(signal.SIGALRM, _alarm)
    for i, path in enumerate(paths):
        if i < first or not path:
            continue
        print(f"{i}\tstart", flush=True)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            if path.endswith(".weights.h5"):
                model.load_weights(path)
            else:
                load_model(path)
            outcome = "loaded"
        except FileFormatError:
            outcome = "FileFormatError"
        except Timeout:
            outcome = "timeout"
        except Exception as error:  # noqa: BLE001  (what the fuzz looks for)
            outcome = f"other\t{type(error).__name__}: {error}"[:300]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        print(f"{i}\t{outcome}".replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
