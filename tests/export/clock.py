"""Move the clock that the zip writers read (zipfile's time.time, openpyxl's datetime.now), and
nothing else, so that two renders can be made "a second apart" without waiting."""

from __future__ import annotations

import datetime as dt
import time
import zipfile
from types import SimpleNamespace

import openpyxl.writer.excel
import pytest


def set_clock(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(moment.timestamp(), tz)

    monkeypatch.setattr(zipfile, "time", SimpleNamespace(time=moment.timestamp, localtime=time.localtime))
    monkeypatch.setattr(openpyxl.writer.excel, "datetime", SimpleNamespace(datetime=Frozen, timezone=dt.timezone))


# An odd second then the next (even) one: zip times count in 2-second steps, so these two differ there.
ONE = dt.datetime(2026, 12, 1, 9, 30, 1, tzinfo=dt.UTC)
A_SECOND_LATER = dt.datetime(2026, 12, 1, 9, 30, 2, tzinfo=dt.UTC)
