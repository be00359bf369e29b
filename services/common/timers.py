"""nameko's timer, for periodic work that reads and writes the database.

A pass that finds the database or the broker away is expected now and then (a
restart, a failover): it is logged as a warning and the next tick tries again,
rather than an error with its traceback every interval of the outage.
"""

from nameko.timer import Timer as NamekoTimer
from sqlalchemy import exc as sa_exc

from services.common.errors import Unavailable
from services.common.rpc import BROKER_ERRORS

OUTAGES = (Unavailable, sa_exc.OperationalError, *BROKER_ERRORS)


class Timer(NamekoTimer):
    def __init__(self, interval, eager=False, **kwargs):
        kwargs.setdefault("expected_exceptions", OUTAGES)
        super().__init__(interval, eager=eager, **kwargs)


timer = Timer.decorator
