"""The garbage collector's pace in a serving worker.

Reference counting frees almost everything a request makes; the cyclic collector only has to
find the few cycles. At CPython's default pace (a young collection every 700 net allocations)
it ran several times per request and took an eighth of a MariaDB worker's CPU under the
campaign load (py-spy, docs/performance.md, eighth round), most of it walking objects that live
as long as the process: the imported modules, the app, SQLAlchemy's compiled statements, the
read caches. A worker that has started freezes what it has built so far (out of every
collection) and collects less often. Cyclic garbage waits a little longer to be freed.
"""

from __future__ import annotations

import gc

# (young, middle, old): collect the young generation every 20,000 net allocations.
THRESHOLDS = (20_000, 50, 100)


def tune_for_serving() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
