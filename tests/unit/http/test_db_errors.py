"""Which database errors mean "the database is down" (503, the pool is reset), "retry"
(503, the pool kept) or a fault of ours (500)."""

import pytest
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from gis_app.http.errors import database_unavailable, transient_database_error


class _Orig(Exception):
    def __init__(self, pgcode: str | None) -> None:
        super().__init__("x")
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("error", "down", "transient"),
    [
        (OperationalError("s", {}, _Orig(None)), True, False),  # connection refused / lost
        (OperationalError("s", {}, _Orig("57P01")), True, False),  # admin shutdown
        (OperationalError("s", {}, _Orig("57P03")), True, False),  # cannot connect now
        (OperationalError("s", {}, _Orig("08006")), True, False),  # connection failure
        (OperationalError("s", {}, _Orig("53300")), True, False),  # too many connections
        (InterfaceError("s", {}, _Orig(None)), True, False),  # connection already closed
        (OperationalError("s", {}, _Orig("40P01")), False, True),  # deadlock
        (OperationalError("s", {}, _Orig("40001")), False, True),  # serialization failure
        (OperationalError("s", {}, _Orig("55P03")), False, True),  # lock not available
        (OperationalError("s", {}, _Orig("57014")), False, True),  # statement timeout
        (IntegrityError("s", {}, _Orig("23505")), False, False),  # a bug or a race of ours
        (ValueError("x"), False, False),
    ],
)
def test_database_errors_are_told_apart(error, down, transient) -> None:
    assert database_unavailable(error) is down
    assert transient_database_error(error) is transient
