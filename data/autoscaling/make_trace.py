"""Writes data/autoscaling/trace.csv: a synthetic flash crowd (not a real trace), two hours
at one row a minute, in requests per second. Run from the repository root:

    python data/autoscaling/make_trace.py
"""

from pathlib import Path

from kbook.autoscaling.traces import flash_crowd

# A night rate of 20 requests/s, one surge 30 minutes in with the World Cup 98 proportions
# (20x the trough, rising from 40 % of the peak over 27 minutes), held 20 minutes, gone in 15.
trace = flash_crowd(2 * 3600.0, 20.0, starts=[1800.0], lead=600.0, hold=1200.0,
                    decay=900.0, period=60.0)
out = Path(__file__).with_name("trace.csv")
out.write_text("timestamp,requests_per_second\n" + "".join(f"{t:.0f},{v:.2f}\n" for t, v in trace.items()))
