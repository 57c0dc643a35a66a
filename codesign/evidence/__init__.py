"""Indicator evidence: the "similar 10" comparison as NHS RightCare's Commissioning for Value does it.

Pure code, like codesign/voting/: no web, database or template imports. The CSV parsers turn a
Fingertips-layout file (or a peer list) into rows or refuse it whole; `compare` works out an
area's value, its peers, the best-5 mean, the opportunity, a funnel plot and the trend.
"""

from codesign.evidence.compare import Comparison, Observation, PeriodData, compare, data_multiplier, infer_multiplier
from codesign.evidence.files import EvidenceFileError, IndicatorRow, parse_indicator_csv, parse_peers_csv
from codesign.evidence.funnel import Funnel, funnel_plot
from codesign.evidence.intervals import byar_interval, wilson_interval

__all__ = ["Comparison", "EvidenceFileError", "Funnel", "IndicatorRow", "Observation", "PeriodData",
           "byar_interval", "compare", "data_multiplier", "funnel_plot", "infer_multiplier", "parse_indicator_csv",
           "parse_peers_csv", "wilson_interval"]
