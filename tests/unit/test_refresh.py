"""A re-clustering sends the host only what changed, and the host declines what it cannot
apply; either way its snapshot equals one made from all the notes at once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from nlp import theme_diff
from nlp.factory import make_pipeline
from nlp.refresh import (
    FULL_READ_EVERY,
    READ_OVERLAP,
    NoteLedger,
    NoteReading,
    RunOutput,
    RunRequest,
)
from nlp.runner import PipelineHost, ThreadRunner
from nlp.steering import Edit
from nlp.worker import ThemeWorker
from tests.theme_follower import normalised
from tests.topics import BIKES, MEALS, TREES


@dataclass(frozen=True)
class Rec:
    id: str
    text: str
    room_id: str
    created_at: datetime | None
    step_id: str | None = None


def _records(texts: list[str], prefix: str, start: int = 0) -> list[Rec]:
    return [
        Rec(f"{prefix}{i}", t, f"r{i % 3}", datetime.fromtimestamp(1_700_000_000 + start + i, UTC))
        for i, t in enumerate(texts)
    ]


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _all(records: list[Rec]) -> NoteReading:
    return NoteReading(records, NOW)


def _run(
    host: PipelineHost, ledger: NoteLedger, records: list[Rec], stored: int | None
) -> RunOutput:
    request = ledger.request("e", _all(records), stored, None)
    output = host.refresh(request)
    assert output is not None
    ledger.applied(request)
    return output


def test_the_second_run_sends_only_the_new_edited_and_removed_notes() -> None:
    host, ledger = PipelineHost(make_pipeline("hashing")), NoteLedger()
    records = _records(BIKES + MEALS, "n")
    first = _run(host, ledger, records, None)
    assert first.n_notes == len(records)

    edited = Rec(records[0].id, "shaded benches by the river", "r0", records[0].created_at)
    later = [edited, *records[2:], *_records(TREES, "t", start=1000)]
    request = ledger.request("e", _all(later), first.version, None)
    assert not request.full and request.previous_text is None
    assert [n.id for n in request.upserts] == [edited.id, *(f"t{i}" for i in range(len(TREES)))]
    assert request.removed == (records[1].id,)

    output = host.refresh(request)
    assert output is not None and output.n_notes == len(later)
    payload = json.loads(output.text)
    assert payload["version"] == first.version + 1
    assert payload["n_notes"] == len(later)
    themed = {n for t in payload["themes"] for n in t["note_ids"]}
    unthemed = {u["id"] for u in payload["unthemed"]}
    assert themed | unthemed == {r.id for r in later}
    texts = {r["id"]: r["text"] for t in payload["themes"] for r in t["representatives"]}
    texts.update((u["id"], u["text"]) for u in payload["unthemed"])
    assert texts.get(edited.id, edited.text) == edited.text


def test_a_host_that_lost_its_notes_declines_and_a_full_request_rebuilds_it() -> None:
    host, ledger = PipelineHost(make_pipeline("hashing")), NoteLedger()
    records = _records(BIKES + MEALS + TREES, "n")
    first = _run(host, ledger, records, None)

    restarted = PipelineHost(make_pipeline("hashing"))  # a child process that was replaced
    assert restarted.refresh(ledger.request("e", _all(records), first.version, None)) is None
    full = ledger.request(
        "e", _all(records), first.version, None, full=True, previous_text=first.text
    )
    assert full.full and len(full.upserts) == len(records)
    again = restarted.refresh(full)
    assert again is not None
    ledger.applied(full)

    # Ids carry over from the stored snapshot exactly as from the host's own last themes.
    same = host.refresh(_unchanged_request(full, base_of=host))
    assert same is not None
    ids = {t["id"] for t in json.loads(again.text)["themes"]}
    assert ids == {t["id"] for t in json.loads(same.text)["themes"]}
    assert ids & {t["id"] for t in json.loads(first.text)["themes"]}


def _unchanged_request(request: RunRequest, *, base_of: PipelineHost) -> RunRequest:
    """`request` with nothing changed, made against `base_of`'s own state."""
    return RunRequest(
        event_id=request.event_id,
        token=request.token + 1,
        base=base_of.events[request.event_id].notes.token,
        full=False,
        upserts=(),
        removed=(),
        previous_version=request.previous_version,
    )


def test_themes_stored_by_someone_else_make_the_host_decline() -> None:
    host, ledger = PipelineHost(make_pipeline("hashing")), NoteLedger()
    records = _records(BIKES + MEALS, "n")
    first = _run(host, ledger, records, None)
    # Another worker stored a newer version: the host's own last themes are not the
    # previous ones, and it must be sent them.
    assert host.refresh(ledger.request("e", _all(records), first.version + 1, None)) is None


def test_a_request_the_host_did_not_confirm_is_sent_again() -> None:
    host, ledger = PipelineHost(make_pipeline("hashing")), NoteLedger()
    records = _records(BIKES, "n")
    first = _run(host, ledger, records, None)
    more = [*records, *_records(MEALS, "m", start=1000)]
    lost = ledger.request("e", _all(more), first.version, None)  # never reaches the host
    retry = ledger.request("e", _all(more), first.version, None)
    assert {n.id for n in retry.upserts} == {n.id for n in lost.upserts} != set()
    assert host.refresh(retry) is not None


def test_a_read_of_what_changed_sends_the_same_as_a_read_of_everything() -> None:
    records = _records(BIKES + MEALS, "n")
    ledger = NoteLedger()
    assert ledger.since() is None  # nothing read yet: every note
    first = ledger.request("e", _all(records), None, None)
    ledger.applied(first)
    assert ledger.since() == NOW - READ_OVERLAP

    edited = Rec(records[0].id, "shaded benches by the river", "r0", records[0].created_at)
    new = _records(TREES, "t", start=1000)
    # A partial read overlaps the last one: unchanged notes come back and are not sent.
    changed = NoteReading([records[3], edited, *new], NOW, complete=False, deleted=[records[1].id])
    twin = NoteLedger()
    twin.applied(twin.request("e", _all(records), None, None))
    everything = [edited, records[2], *records[3:], *new]
    partial = ledger.request("e", changed, 1, None)
    whole = twin.request("e", _all([r for r in everything if r.id != records[1].id]), 1, None)
    assert {n.id for n in partial.upserts} == {n.id for n in whole.upserts}
    assert partial.removed == whole.removed == (records[1].id,)


def test_every_so_many_partial_reads_the_next_read_is_complete() -> None:
    ledger = NoteLedger()
    ledger.applied(ledger.request("e", _all(_records(BIKES, "n")), None, None))
    for _ in range(FULL_READ_EVERY):
        assert ledger.since() is not None
        ledger.applied(ledger.request("e", NoteReading([], NOW, complete=False), 1, None))
    assert ledger.since() is None


class MemoryThemes:
    """The theme tables of a store, in memory."""

    def __init__(self, records: list[Rec]) -> None:
        self.records = records
        self.saved: dict[int, str] = {}
        self.complete_reads = 0

    async def notes(self, event_id: str) -> list[Rec]:
        self.complete_reads += 1
        return list(self.records)

    async def changed_notes(self, event_id: str, since: datetime) -> tuple[list[Rec], list[str]]:
        return [r for r in self.records if r.created_at and r.created_at > since], []

    async def edits(self, event_id: str) -> list[Edit]:
        return []

    async def save(
        self, event_id: str, version: int, payload: str, notes_read_at: datetime
    ) -> bool:
        if version in self.saved:
            return False
        self.saved[version] = payload
        return True

    async def version(self, event_id: str) -> int | None:
        return max(self.saved, default=None)

    async def latest_text(self, event_id: str) -> str | None:
        return self.saved[max(self.saved)] if self.saved else None


async def test_with_one_worker_per_database_a_snapshot_is_stored_at_most_so_often() -> None:
    store = MemoryThemes(_records(BIKES + MEALS, "n"))
    published: list[str] = []
    diffs: list[str | None] = []

    async def publish(event_id: str, text: str, diff: str | None) -> None:
        published.append(text)
        diffs.append(diff)

    worker = ThemeWorker(
        store, publish, ThreadRunner(lambda: make_pipeline("hashing")), store_every=3600
    )
    await worker.start()
    assert await worker.wait_ready()
    try:
        first = await worker.refresh("e")
        store.records += _records(TREES, "t", start=10_000_000)
        second = await worker.refresh("e")
        assert first is not None and second is not None
        assert published == [first, second]
        # The first themes have nothing to be a diff from; the second's diff rebuilds it.
        assert diffs[0] is None and diffs[1] is not None
        rebuilt = theme_diff.apply(json.loads(first), json.loads(diffs[1]))
        assert normalised(rebuilt) == normalised(json.loads(second))
        # The second run went on from the first's themes, which only this worker holds.
        assert list(store.saved) == [json.loads(first)["version"]]
        assert json.loads(second)["version"] == json.loads(first)["version"] + 1
        assert store.complete_reads == 1  # no runner declined, no second complete read
        assert await worker.latest_text("e") == second
    finally:
        await worker.close()  # stores what is left
    assert store.saved[json.loads(second)["version"]] == second
