"""Reports: the versioned JSON hand-off between finding and acting, and its CSV view."""

from picdup.report.csv import write_csv
from picdup.report.json import (
    FORMAT,
    VERSION,
    load_report,
    report_from_dict,
    report_to_dict,
    write_json,
    write_report,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "load_report",
    "report_from_dict",
    "report_to_dict",
    "write_csv",
    "write_json",
    "write_report",
]
