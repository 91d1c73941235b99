"""Ordering, presence, tokens, flood control and origins: the small pure pieces."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.auth import TokenError, TokenSigner, check_secret, hash_secret
from server.hub import pack, unpack
from server.limits import TokenBucket, origin_allowed
from server.ordering import RoomSequencer
from server.presence import Presence


@given(st.permutations(list(range(1, 30))), st.integers(0, 5))
def test_sequencer_delivers_in_order_whatever_the_arrival_order(
    order: list[int], dups: int
) -> None:
    seqr = RoomSequencer(0, "e")
    arrivals = order + random.Random(dups).sample(order, dups)
    out = []
    for s in arrivals:
        out += [seq for seq, _ in seqr.accept(s, "e", f"f{s}")]
    assert out == list(range(1, 30))
    assert seqr.missing() is None


def test_sequencer_reports_a_gap_and_ignores_other_epochs() -> None:
    seqr = RoomSequencer(5, "e")
    assert seqr.accept(8, "e", "f8") == []
    assert seqr.missing() == (5, 7)
    assert seqr.accept(6, "other", "x") == []
    assert seqr.accept(6, "e", "f6") == [(6, "f6")]
    assert seqr.accept(7, "e", "f7") == [(7, "f7"), (8, "f8")]
    assert seqr.accept(7, "e", "again") == []


def test_broker_header_round_trip() -> None:
    assert unpack(pack("o1", '{"a":1}\n', 4, "e-1")) == ("o1", 4, "e-1", '{"a":1}\n')
    assert unpack(pack("o1", "{}")) == ("o1", None, None, "{}")


def test_presence_counts_people_not_connections() -> None:
    p = Presence()
    ana = {"id": "a", "pseudonym": "Ana", "role": "participant"}
    assert p.join("r", ana, "c1") == ana
    assert p.join("r", ana, "c2") is None  # a second tab is not a second arrival
    assert p.members("r") == [ana]
    assert p.leave("r", "a", "c1") is None
    assert p.leave("r", "a", "c2") == ana
    assert p.members("r") == []
    assert p.leave("r", "a", "c2") is None


def test_tokens_verify_and_refuse_forgery_and_expiry() -> None:
    signer = TokenSigner(b"k" * 32, ttl_seconds=60)
    token = signer.issue("p1", "e1", "participant", now=1000)
    claims = signer.verify(token, now=1010)
    assert (claims.participant_id, claims.event_id, claims.role) == ("p1", "e1", "participant")
    with pytest.raises(TokenError, match="expired"):
        signer.verify(token, now=2000)
    with pytest.raises(TokenError):
        TokenSigner(b"x" * 32, 60).verify(token, now=1010)
    body, sig = token.split(".")
    with pytest.raises(TokenError):
        signer.verify(body[:-2] + "AA." + sig, now=1010)
    with pytest.raises(TokenError):
        signer.verify("garbage", now=1010)


def test_secrets_hash_and_check() -> None:
    stored = hash_secret("s3cret")
    assert check_secret("s3cret", stored)
    assert not check_secret("wrong", stored)
    assert not check_secret("s3cret", "nonsense")


def test_token_bucket_allows_burst_then_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) is True
    assert bucket.take(0.5) is False


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "h:1", (), True),
        ("http://h:1", "h:1", (), True),
        ("https://evil.example", "h:1", (), False),
        ("https://app.example", "h:1", ("https://app.example",), True),
        ("http://h:1", "h:1", ("https://app.example",), False),
    ],
)
def test_origin_check(origin: str | None, host: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok
