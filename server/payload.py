"""What every message payload shares: strict models (an unknown field is an error), ids, and
the bounds that the HTTP API checks too."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

ROOM_NAME_MAX_CHARS = 60

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
RoomName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ROOM_NAME_MAX_CHARS)
]


def clean_text(value: str) -> str:
    return value.strip()


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Empty(Payload):
    pass
