"""The simulation's event log: what each component did, when, to which object.

Every component of a simulated cluster appends to one log; the book reads it as a pandas
DataFrame with the columns ``time, component, verb, object, detail``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["EventLog", "Record"]


@dataclass(frozen=True)
class Record:
    time: float
    component: str
    verb: str
    object: str
    detail: str = ""


@dataclass
class EventLog:
    """An append-only list of records, in the order they happened."""

    records: list[Record] = field(default_factory=list)

    def record(self, time: float, component: str, verb: str, obj: str, detail: str = "") -> None:
        self.records.append(Record(float(time), component, verb, obj, detail))

    def __len__(self) -> int:
        return len(self.records)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records, columns=["time", "component", "verb", "object", "detail"])
