"""Intake: read JSON, CSV and XLSX files into raw records, streamed."""

from pipeline.intake.flat import flatten, unflatten
from pipeline.intake.readers import READERS, RawRecord, read_records

__all__ = ["READERS", "RawRecord", "flatten", "read_records", "unflatten"]
