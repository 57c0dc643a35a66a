"""Path convertors. `{name:id}` matches a database id or question number: 1 to 9 ASCII digits.

Starlette's `int` matches any run of digits, so `/sessions/99999999999999999999` reached the
database and failed there (PostgreSQL's integer is 32-bit: a 500). Nine digits stay below
2,147,483,647, so anything longer is simply no such page (404), like any other unknown path.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 999_999_999


class IdConvertor(Convertor[int]):
    regex = "[0-9]{1,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        if not 0 <= value <= MAX_ID:
            raise ValueError(f"{value} is not an id")
        return str(value)


def register() -> None:
    register_url_convertor("id", IdConvertor())
