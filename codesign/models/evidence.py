"""Indicator values in the Fingertips layout, and each area's peer group (RightCare's "similar 10")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from codesign.models.core import utcnow


class IndicatorValue(SQLModel, table=True):
    """One figure from an imported file: an indicator, area, breakdown and period. Importing the same
    key again updates the row; `source` and `imported_at` say where the figure came from and when."""

    __tablename__ = "indicator_value"
    __table_args__ = (
        UniqueConstraint("indicator_id", "area_code", "sex", "age", "category_type", "category", "period",
                         name="uq_indicator_value_key"),
        Index("ix_indicator_value_indicator_period", "indicator_id", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: str = Field(max_length=100)
    indicator_name: str = Field(default="", max_length=300)
    parent_code: str = Field(default="", max_length=100)
    parent_name: str = Field(default="", max_length=300)
    area_code: str = Field(max_length=100)
    area_name: str = Field(default="", max_length=300)
    area_type: str = Field(default="", max_length=300)
    sex: str = Field(default="", max_length=100)
    age: str = Field(default="", max_length=100)
    category_type: str = Field(default="", max_length=300)
    category: str = Field(default="", max_length=300)
    period: str = Field(max_length=100)
    value: float | None = None
    lower_ci95: float | None = None
    upper_ci95: float | None = None
    lower_ci998: float | None = None
    upper_ci998: float | None = None
    count: float | None = None
    denominator: float | None = None
    value_note: str = Field(default="", max_length=300)
    source: str = Field(default="", max_length=200)
    imported_at: datetime = Field(default_factory=utcnow)


class PeerLink(SQLModel, table=True):
    """`peer_code` is one of `area_code`'s peers (any number; 10 by RightCare's convention)."""

    __tablename__ = "peer_link"
    __table_args__ = (UniqueConstraint("area_code", "peer_code", name="uq_peer_link"),)
    id: int | None = Field(default=None, primary_key=True)
    area_code: str = Field(max_length=100, index=True)
    peer_code: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
