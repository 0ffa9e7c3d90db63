"""Schemathesis hooks for tests/api/test_fuzz.py: values at and past the edges of what the
database and datetime hold, and YAML bodies for POST /api/v1/apply.

Loaded through SCHEMATHESIS_HOOKS, so the generated requests reach the real server.
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

# Times that overflow when converted to UTC, and years Python's datetime does not hold.
EDGE_TIMES = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "0000-01-01T00:00:00Z",
    "10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]
EDGE_INTEGERS = [2**31 - 1, 2**31, 2**63, -(2**63) - 1, 10**20]
_LAUGHS = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{','.join(['*' + chr(97 + n)] * 9)}]\n" for n in range(8)
)
EDGE_YAML = [
    _LAUGHS + "users: *i\n",
    "users: " + "[" * 2000 + "]" * 2000 + "\n",
    "users: [{username: kim}]\n",
    "routing_rules: [{rule: {name: x, match: [{label: a, regex: '(a)\\1'}]}}]\n",
    "users: [{username: kim, contact_methods: [{name: h, url: 'json://127.0.0.1:9/k'}], "
    "notification_rules: [{contact: h, after: 99999999999999999999m}]}]\n",
    "schedules: [{id: s, rotations: [{name: w, handoff: '9999-12-31T23:59', priority: "
    "100000000000000000000, participants: [kim]}]}]\n",
    ": : :\n",
]

schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.sampled_from(EDGE_TIMES),
        st.datetimes(timezones=st.just(None) | st.timezones()).map(lambda d: d.isoformat()),
    ),
)
schemathesis.openapi.media_type(
    "application/yaml",
    st.one_of(st.sampled_from(EDGE_YAML), st.text(max_size=200)).map(
        lambda text: text.encode("utf-8", "surrogatepass")
    ),
)


def _with_edges(value: object, edge: int) -> object:
    """The same body with every integer in it replaced by an edge value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return edge
    if isinstance(value, dict):
        return {k: _with_edges(v, edge) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_edges(v, edge) for v in value]
    return value


@schemathesis.hook
def flatmap_body(ctx, body):  # type: ignore[no-untyped-def]
    return st.one_of(
        st.just(body), st.sampled_from(EDGE_INTEGERS).map(lambda edge: _with_edges(body, edge))
    )
