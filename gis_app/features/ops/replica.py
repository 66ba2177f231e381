"""Read-only work on a streaming replica (GIS_APP_REPLICA_DATABASE_URL).

A GET of a read-only endpoint (map data, tiles, exports, OGC, statistics: `READ_ENDPOINTS`)
is answered from the replica while its replay lag is within GIS_APP_REPLICA_MAX_LAG_SECONDS;
else, or when the replica does not answer, from the primary. The switch happens after the
authentication (which writes: a session's last-seen time) has committed on the primary: the
request's session is bound to the replica's engine from its next transaction on. The answer
says where it was read in `X-Served-By` (`replica` / `primary`).

The lag is measured on the replica: 0 when it has replayed all it received, else the age of
the last transaction it replayed; it is read at most every `LAG_CACHE_S` seconds per process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from gis_app.core.database import create_db_engine
from gis_app.http.database import session

READ_ENDPOINTS = frozenset(
    {
        "api.list_sites",
        "api.site_counts",
        "maps.district_map",
        "maps.street_map",
        "maps.site_popup",
        "tiles.site_tile",
        "exports.download",
        "dashboard.export_ledger",
        "dashboard.export_monthly",
        "dashboard.export_ranking",
        "ogc.collections",
        "ogc.collection",
        "ogc.items",
        "ogc.item",
    }
)
LAG_CACHE_S = 2.0
LAG_SQL = text(
    """
    SELECT CASE
      WHEN NOT pg_is_in_recovery() THEN NULL
      WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
      ELSE greatest(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
    END
    """
)


@dataclass
class LagReading:
    seconds: float | None  # None: unreachable, or no longer a replica (promoted)
    error: str = ""


class ReplicaRouter:
    def __init__(self, engine: Engine, max_lag: float) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self._lock = threading.Lock()
        self._read_at = -1e9
        self._reading = LagReading(None, "not read yet")

    def lag(self) -> LagReading:
        with self._lock:
            if time.monotonic() - self._read_at < LAG_CACHE_S:
                return self._reading
            try:
                with self.engine.connect() as conn:
                    value = conn.execute(LAG_SQL).scalar()
                reading = LagReading(
                    None if value is None else float(value),
                    "不再是副本（已提升为主库？）" if value is None else "",
                )
            except SQLAlchemyError as exc:
                reading = LagReading(None, str(getattr(exc, "orig", exc)).strip()[:200])
            self._reading, self._read_at = reading, time.monotonic()
            return reading

    def usable(self) -> bool:
        reading = self.lag()
        return reading.seconds is not None and reading.seconds <= self.max_lag


def router() -> ReplicaRouter | None:
    return current_app.extensions.get("ops_replica")


def _route_reads() -> None:
    r = router()
    if r is None or request.method != "GET" or request.endpoint not in READ_ENDPOINTS:
        return
    if not r.usable():
        g.served_by = "primary"
        return
    s = session()
    if s.in_transaction():  # authentication's work: committed where it was done
        s.commit()
    s.bind = r.engine
    g.served_by = "replica"


def _say_where(response: Response) -> Response:
    served = g.get("served_by")
    if served:
        response.headers["X-Served-By"] = served
    return response


def init_app(app: Flask) -> None:
    url = app.config["REPLICA_DATABASE_URL"]
    if not url:
        return
    engine = create_db_engine(
        url,
        pool_size=int(app.config["DB_POOL_SIZE"]),
        max_overflow=int(app.config["DB_MAX_OVERFLOW"]),
    )
    app.extensions["ops_replica"] = ReplicaRouter(
        engine, float(app.config["REPLICA_MAX_LAG_SECONDS"])
    )
    app.before_request(_route_reads)  # after authentication (registered before this feature)
    app.after_request(_say_where)
