"""What the fuzzing tests (tests/fuzz) share: hypothesis settings that keep CI deterministic, one example isolated.

Every property test in tests/fuzz is ``@pytest.mark.once`` (tests/support/counting.py): fuzzing runs once, in
production mode.  The crashes it found are kept as plain tests (tests/fuzz/test_fuzz_regressions.py) that run in
both modes, and as ``@example(...)``s beside the property that found them.

Determinism: ``derandomize=True`` makes hypothesis draw its examples from a seed derived from the test itself, so
every run (a developer's, CI's) tries the same inputs, and ``database=None`` keeps it from replaying failures it
saved in a local .hypothesis folder, which CI's fresh clone would not have.  The number of examples is each
test's ``max_examples`` (its EXAMPLES): hypothesis tries that many, fewer only when the strategy cannot make that
many distinct inputs (a GET without parameters).  ``deadline=None``: examples go through the database and Redis,
and timing is no property of ours (no wall-clock assertions).
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator

import modes
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Function-scoped fixtures (the database, the fake Twilio server) are set up once per test and shared by its
# examples: each example runs in a savepoint that is rolled back (rolled_back() below).
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def clear_rate_limit_counters() -> None:
    """In production mode the rate-limit counters live in Redis, outside the database's savepoints."""
    if modes.POSTGRES:
        from django.core.cache import caches

        redis = getattr(caches["ratelimit"], "redis", None)
        if redis is not None:
            redis.clear_prefixed()


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    """One example's requests in a savepoint rolled back after it (and no rate-limit counters left from the one
    before), so that each example starts from the same rows."""
    clear_rate_limit_counters()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --------------------------------------------------------------------------------------------------------
# Strategies shared by the fuzzing tests
# --------------------------------------------------------------------------------------------------------

WEBAUTHN_KEYS = (
    "id",
    "rawId",
    "type",
    "response",
    "clientDataJSON",
    "authenticatorData",
    "attestationObject",
    "signature",
    "userHandle",
    "transports",
    "authenticatorAttachment",
    "clientExtensionResults",
    "token",
    "name",
    "next",
    "email",
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)


def _containers(children: st.SearchStrategy) -> st.SearchStrategy:
    keys = st.sampled_from(WEBAUTHN_KEYS) | st.text(max_size=12)
    return st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5)


json_values = st.recursive(json_scalars, _containers, max_leaves=25)


def _deep(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + "1" + closer * depth


# A request body as sent: JSON of any shape, JSON nested far deeper than any parser's recursion limit, JSON
# that does not parse, or bytes that are not UTF-8.
raw_bodies = (
    json_values.map(lambda v: json.dumps(v).encode())
    | st.builds(_deep, st.integers(min_value=1, max_value=20_000), st.sampled_from(["[", '{"a":'])).map(str.encode)
    | st.text(max_size=200).map(str.encode)
    | st.binary(max_size=200)
)

# One change to a value: what broken base64url, a wrong type or a huge string looks like.
BASE64_BREAKERS = "!+/= \n\x00=é"


@st.composite
def mutation(draw: st.DrawFn, paths: tuple[tuple[str, ...], ...]):
    """A function that changes one member of a (nested) JSON object: deletes it, replaces it with any JSON value,
    or breaks its string (base64url) value."""
    path = draw(st.sampled_from(paths))
    how = draw(st.sampled_from(["delete", "replace", "break"]))
    replacement = draw(json_values)
    seed = draw(st.randoms(use_true_random=False))

    def apply(body: dict) -> object:
        body = copy.deepcopy(body)
        if not path:
            return replacement
        parent = body
        for key in path[:-1]:
            if not isinstance(parent.get(key), dict):
                return body
            parent = parent[key]
        last = path[-1]
        if how == "delete":
            parent.pop(last, None)
        elif how == "replace":
            parent[last] = replacement
        else:
            parent[last] = _break(parent.get(last), seed)
        return body

    apply.description = f"{how} {'.'.join(path) or 'the body'}"  # type: ignore[attr-defined]
    return apply


def _break(value: object, rnd) -> object:
    """The value with its base64url broken (a character inserted, cut short, padded, made huge, one changed), by a
    Random that hypothesis seeds: the value is known only once the ceremony has run."""
    if not isinstance(value, str) or not value:
        return rnd.choice([None, 0, [], {}, "", "!!"])
    at = rnd.randrange(len(value))
    how = rnd.choice(["insert", "truncate", "pad", "huge", "flip"])
    if how == "insert":
        return value[:at] + rnd.choice(BASE64_BREAKERS) + value[at:]
    if how == "truncate":
        return value[:at]
    if how == "pad":
        return value + "=" * rnd.randint(1, 3)
    if how == "huge":
        return value * rnd.randint(2, 3000)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return value[:at] + rnd.choice(alphabet) + value[at + 1 :]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes flipped, inserted, deleted, or cut short; or bytes of its own."""
    how = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "arbitrary"]))
    if how == "arbitrary":
        return draw(st.binary(max_size=400))
    b = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=max(len(b) - 1, 0)))
        if how == "flip" and b:
            b[at] ^= draw(st.integers(min_value=1, max_value=255))
        elif how == "insert":
            b[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif how == "delete" and b:
            del b[at : at + draw(st.integers(min_value=1, max_value=8))]
        elif how == "truncate":
            del b[at:]
    return bytes(b)
