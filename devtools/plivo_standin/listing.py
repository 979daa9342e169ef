"""The filters of Plivo's message list (GET /Message/)."""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from typing import Callable, Mapping

from devtools.plivo_standin.formats import parse_filter_time
from devtools.plivo_standin.phones import digits
from devtools.plivo_standin.store import StoredMessage

MAX_LIMIT = 20
_TIME_OPS: dict[str, Callable[[dt.datetime, dt.datetime], bool]] = {
    "message_time": operator.eq,
    "message_time__gt": operator.gt,
    "message_time__gte": operator.ge,
    "message_time__lt": operator.lt,
    "message_time__lte": operator.le,
}
_EXACT = {
    "message_direction": "direction",
    "message_state": "state",
    "message_type": "type",
    "error_code": "error_code",
}


@dataclass
class ListQuery:
    """A parsed list request: paging plus a predicate per filter."""

    limit: int = MAX_LIMIT
    offset: int = 0
    predicates: list[Callable[[StoredMessage], bool]] = field(default_factory=list)

    def matches(self, message: StoredMessage) -> bool:
        """True if the message passes every filter."""
        return all(predicate(message) for predicate in self.predicates)


def _int(query: Mapping[str, str], key: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{key} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise ValueError(f"{key} out of range")
    return value


def _time_predicate(
    op: Callable[[dt.datetime, dt.datetime], bool], bound: dt.datetime
) -> Callable[[StoredMessage], bool]:
    # Plivo shows message_time to the second; filters compare against that value.
    return lambda m: op(m.time.replace(microsecond=0), bound)


def parse_list_query(query: Mapping[str, str]) -> ListQuery:
    """Parse the list's query string; ValueError on a malformed filter."""
    result = ListQuery(
        limit=_int(query, "limit", MAX_LIMIT, 1, MAX_LIMIT),
        offset=_int(query, "offset", 0, 0, None),
    )
    for key, op in _TIME_OPS.items():
        if query.get(key):
            result.predicates.append(_time_predicate(op, parse_filter_time(query[key])))
    for key, attribute in _EXACT.items():
        if query.get(key):
            wanted = query[key]
            result.predicates.append(lambda m, a=attribute, w=wanted: getattr(m, a) == w)
    for key, attribute in (("from_number", "from_number"), ("to_number", "to_number")):
        if query.get(key):
            wanted = digits(query[key])
            result.predicates.append(lambda m, a=attribute, w=wanted: getattr(m, a) == w)
    return result
