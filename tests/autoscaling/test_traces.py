"""Traces: the packaged real ones, a reader's CSV, resampling and the synthetic shapes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kbook.autoscaling import traces
from kbook.autoscaling.traces import TraceError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "traces"
EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "autoscaling" / "trace.csv"


@pytest.mark.parametrize("name, column, stride, rows", [
    ("alibaba2018", "cpu_util_percent", 300, 2243),
    ("google2019", "cpu_util_percent", 300, 8064),
    ("azure_v2", "cpu_usage", 300, 8640),
])
def test_packaged_trace_has_the_documented_shape_and_a_seconds_index(name, column, stride, rows):
    s = traces.load_trace(name, column, stride)
    assert len(s) == rows
    assert s.index[1] - s.index[0] == stride and s.index[-1] == (rows - 1) * stride
    assert s.notna().all() and (s > 0).all()


def test_alibaba_defaults_to_its_10_second_stride():
    s = traces.load_trace()
    assert s.index[1] == 10.0 and s.index[-1] > 7 * traces.DAY


@pytest.mark.parametrize("kwargs, field", [
    ({"name": "borg"}, "trace"), ({"name": "google2019", "stride_seconds": 10}, "stride_seconds"),
    ({"name": "azure_v2", "column": "cpu_util_percent"}, "column"),
])
def test_packaged_trace_refuses_what_the_package_does_not_have(kwargs, field):
    with pytest.raises(TraceError, match=f"^{field}: "):
        traces.load_trace(**kwargs)


def write(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


def test_read_csv_takes_seconds_or_iso_times_from_zero(tmp_path):
    s = traces.read_csv(write(tmp_path, "timestamp,rps\n100,1.5\n115,2\n130,0\n"))
    assert s.index.tolist() == [0.0, 15.0, 30.0] and s.tolist() == [1.5, 2.0, 0.0] and s.name == "rps"
    iso = traces.read_csv(write(tmp_path, "timestamp_utc,x\n1998-06-30T23:59Z,1\n1998-07-01T00:01+00:00,2\n"))
    assert iso.index.tolist() == [0.0, 120.0]
    naive = traces.read_csv(write(tmp_path, "timestamp,x\n2020-01-01T00:00:00,1\n2020-01-01T01:00:00-01:00,2\n"))
    assert naive.index.tolist() == [0.0, 7200.0]


@pytest.mark.parametrize("text, message", [
    ("", "line 1: empty file"),
    ("time,value\n0,1\n", "line 1: header 'time,value'"),
    ("timestamp\n0\n", "line 1: header 'timestamp'"),
    ("timestamp,v\n0,1\n15,1,2\n", "line 3: expected 2 fields"),
    ("timestamp,v\n0,1\nnoon,2\n", "line 3: timestamp: 'noon' is neither seconds"),
    ("timestamp,v\n0,1\n15,abc\n", "line 3: v: 'abc' is not a number"),
    ("timestamp,v\n0,1\n15,-2\n", "line 3: v: '-2': must be a finite number >= 0"),
    ("timestamp,v\n0,1\n15,nan\n", "line 3: v: 'nan': must be a finite number"),
    ("timestamp,v\n15,1\n15,2\n", "line 3: timestamp: '15': must be later"),
    ("timestamp,v\n0,1\n", "needs at least 2 rows"),
])
def test_read_csv_names_the_line_and_field_of_bad_input(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(TraceError) as e:
        traces.read_csv(path)
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value)


def test_read_csv_of_a_missing_file_is_a_trace_error(tmp_path):
    with pytest.raises(TraceError, match="cannot read"):
        traces.read_csv(tmp_path / "none.csv")


def test_resample_averages_down_and_holds_up_keeping_the_integral():
    s = pd.Series([1.0, 3.0, 5.0, 7.0], index=[0.0, 10.0, 20.0, 30.0])
    down = traces.resample(s, 20)
    assert down.index.tolist() == [0.0, 20.0] and down.tolist() == [2.0, 6.0]
    up = traces.resample(s, 5)
    assert up.tolist() == [1, 1, 3, 3, 5, 5, 7, 7]
    uneven = traces.resample(s, 15)  # bins [0,15) and [15,30): the last half-bin is dropped
    assert uneven.tolist() == pytest.approx([(10 * 1 + 5 * 3) / 15, (5 * 3 + 10 * 5) / 15])


def test_resample_holds_across_a_gap():
    s = pd.Series([2.0, 4.0, 6.0], index=[0.0, 10.0, 30.0])  # the sample at 20 s is missing
    assert traces.resample(s, 10).tolist() == [2.0, 4.0, 4.0, 6.0]


@pytest.mark.parametrize("period", [0, -15])
def test_resample_refuses_a_non_positive_period(period):
    with pytest.raises(TraceError, match="^period: "):
        traces.resample(pd.Series([1.0, 2.0], index=[0.0, 1.0]), period)


def test_resample_refuses_a_period_longer_than_the_trace():
    with pytest.raises(TraceError, match="longer than the whole trace"):
        traces.resample(pd.Series([1.0, 2.0], index=[0.0, 1.0]), 60)


def test_scale_maps_minimum_and_maximum():
    s = traces.scale(pd.Series([10.0, 20.0, 30.0]), peak=100.0, floor=10.0)
    assert s.tolist() == [10.0, 55.0, 100.0]
    with pytest.raises(TraceError, match="^peak: "):
        traces.scale(s, peak=5.0, floor=10.0)


def test_step_ramp_and_diurnal_shapes():
    st = traces.step(120, low=1, high=5, at=60)
    assert st.index.tolist() == [0, 15, 30, 45, 60, 75, 90, 105] and st.tolist() == [1, 1, 1, 1, 5, 5, 5, 5]
    r = traces.ramp(120, start=0, end=30, begin=30, length=60)
    assert r.tolist() == [0, 0, 0, 7.5, 15, 22.5, 30, 30]
    d = traces.diurnal(2 * traces.DAY, trough=10, peak=50, peak_at=14 * 3600, period=3600)
    assert d[14 * 3600.0] == pytest.approx(50) and d[2 * 3600.0] == pytest.approx(10)
    assert d[(24 + 14) * 3600.0] == pytest.approx(50)


def test_flash_crowd_has_the_world_cup_proportions():
    f = traces.flash_crowd(traces.DAY, trough=100.0, starts=[36_000.0], period=60)
    assert f.min() == 100.0 and f.max() == pytest.approx(2000.0)  # 20x the night trough
    assert f[36_000.0] == pytest.approx(800.0)  # 40 % of the peak when the surge starts...
    assert f[36_000.0 + 27 * 60] == pytest.approx(2000.0)  # ...and the peak 27 minutes later
    assert f[36_000.0 + 27 * 60 - 60] < 2000.0
    two = traces.flash_crowd(traces.DAY, trough=1.0)
    peaks = two[two == two.max()]
    assert peaks.index.min() < 17 * 3600 < 19 * 3600 < peaks.index.max()


def test_flash_crowd_matches_the_real_world_cup_day_when_present():
    day = SHARED / "worldcup98" / "wc98_1998-06-30_requests_per_minute.csv"
    if not day.exists():
        pytest.skip("the shared traces are not here")
    real = traces.read_csv(day)
    ratio = real.max() / real.min()
    assert 15 < ratio < 25  # the ~20x that flash_crowd's default peak_ratio states


@pytest.mark.parametrize("kwargs, field", [
    ({"duration": 10}, "duration"), ({"period": 0}, "period"), ({"rise": 0}, "rise"),
    ({"surge_fraction": 1.0}, "surge_fraction"), ({"peak_ratio": -1}, "peak_ratio"),
])
def test_shapes_refuse_bad_parameters(kwargs, field):
    args = {"duration": 3600.0, "trough": 1.0, **kwargs}
    with pytest.raises(TraceError, match=f"^{field}: "):
        traces.flash_crowd(**args)


def test_real_csv_traces_resample_to_the_sync_period():
    files = sorted(SHARED.glob("*/*.csv"))
    if not files:
        pytest.skip("the shared traces are not here")
    for path in files:
        s = traces.read_csv(path)
        r = traces.resample(s, 15)
        assert np.all(np.diff(r.index) == 15)
        step = float(np.median(np.diff(s.index)))
        assert r.sum() * 15 == pytest.approx(s.sum() * step, rel=0.01)


def test_example_trace_is_the_generated_flash_crowd():
    s = traces.read_csv(EXAMPLE)
    assert len(s) == 120 and s.index[-1] == 7140 and s.min() == 20.0 and s.max() == 400.0  # 20x the trough
