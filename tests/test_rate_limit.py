"""The rate limit (SPEC 4): a budget per origin in normal form, over any sliding 60-s window."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import InProcessServerFactory
from tests.support import error_code
from wallet_rpc.errors import RateLimited
from wallet_rpc.service.rate_limit import WINDOW_SECONDS, RateLimiter

RATE_LIMITED = 22001
ORIGIN_MISMATCH = 23001
LIMIT = 5


def case_variants(origin: str, count: int) -> list[str]:
    """`count` distinct spellings of origin, by which letters are upper case."""
    letters = [index for index, character in enumerate(origin) if character.isalpha()]
    variants = []
    for number in range(count):
        characters = list(origin)
        for bit, index in enumerate(letters):
            if number >> bit & 1:
                characters[index] = characters[index].upper()
        variants.append("".join(characters))
    assert len(set(variants)) == count
    return variants


def test_case_variants_of_one_origin_share_its_budget(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server({"security": {"rate_limit_per_minute": LIMIT}})
    answers = [
        server.call("wallet_info", origin=variant)
        for variant in case_variants("http://localhost", 40)
        for _ in range(2)
    ]
    assert sum("result" in answer for answer in answers) == LIMIT
    assert {error_code(answer) for answer in answers[LIMIT:]} == {RATE_LIMITED}


def test_no_origin_header_spends_the_default_origins_budget(
    make_in_process_server: InProcessServerFactory,
) -> None:
    # default_origin is http://localhost (tests/conftest.py).
    server = make_in_process_server({"security": {"rate_limit_per_minute": LIMIT}})
    answers = [
        server.call("wallet_info", origin=origin)
        for _ in range(LIMIT)
        for origin in (None, "http://localhost")
    ]
    assert sum("result" in answer for answer in answers) == LIMIT
    assert error_code(server.call("wallet_info", origin=None)) == RATE_LIMITED
    assert error_code(server.call("wallet_info", origin="http://localhost:80")) == RATE_LIMITED
    # Another allowed origin has a budget of its own.
    assert "result" in server.call("wallet_info", origin="http://localhost:5173")


def test_disallowed_origins_share_one_budget(
    make_in_process_server: InProcessServerFactory,
) -> None:
    server = make_in_process_server({"security": {"rate_limit_per_minute": LIMIT}})
    invented = [f"https://attacker-{number}.example" for number in range(40)]
    malformed = ["null", "", "http://localhost:5173/path", "http://user@localhost:5173"]
    codes = [error_code(server.call("wallet_info", origin=origin)) for origin in invented]
    codes += [error_code(server.call("mina_requestAccounts", origin=bad)) for bad in malformed]
    assert codes[:LIMIT] == [ORIGIN_MISMATCH] * LIMIT
    assert set(codes[LIMIT:]) == {RATE_LIMITED}
    # The allowed origins' budgets are untouched.
    assert "result" in server.call("wallet_info", origin="http://localhost:5173")
    assert "result" in server.call("wallet_info", origin=None)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


calls = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.one_of(st.just(0.0), st.floats(0, 2 * WINDOW_SECONDS, allow_nan=False)),
    ),
    max_size=200,
)


@given(per_minute=st.integers(1, 6), calls=calls)
def test_the_limiter_admits_exactly_what_fits_every_sliding_window(
    per_minute: int, calls: list[tuple[str, float]]
) -> None:
    """Against the definition: a call is admitted iff fewer than per_minute of its
    origin's calls were admitted in the 60 seconds before it."""
    clock = Clock()
    limiter = RateLimiter(per_minute, clock=clock)
    admitted: dict[str, list[float]] = {}
    for key, wait in calls:
        clock.now += wait
        recent = [t for t in admitted.get(key, []) if clock.now - t < WINDOW_SECONDS]
        try:
            limiter.check(key)
        except RateLimited:
            assert len(recent) >= per_minute
        else:
            assert len(recent) < per_minute
            admitted.setdefault(key, []).append(clock.now)


@given(per_minute=st.integers(1, 4), calls=calls, max_tracked=st.integers(1, 4))
def test_a_bounded_limiter_never_lets_an_origin_past_its_budget(
    per_minute: int, calls: list[tuple[str, float]], max_tracked: int
) -> None:
    """With room for fewer origins than call, it forgets only idle ones, and
    refuses a new origin rather than forget one still inside its window."""
    clock = Clock()
    limiter = RateLimiter(per_minute, clock=clock, max_tracked=max_tracked)
    admitted: dict[str, list[float]] = {}
    for key, wait in calls:
        clock.now += wait
        try:
            limiter.check(key)
        except RateLimited:
            continue
        admitted.setdefault(key, []).append(clock.now)
        recent = [t for t in admitted[key] if clock.now - t < WINDOW_SECONDS]
        assert len(recent) <= per_minute
        assert limiter.tracked_origins <= max_tracked


def test_a_full_limiter_takes_a_new_origin_once_one_has_idled() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock=clock, max_tracked=2)
    limiter.check("a")
    clock.now += 1
    limiter.check("b")
    with pytest.raises(RateLimited):
        limiter.check("c")
    clock.now += WINDOW_SECONDS - 1  # a's call leaves its window; b's has a second to go
    limiter.check("c")
    with pytest.raises(RateLimited):
        limiter.check("b")
    assert limiter.tracked_origins == 2
