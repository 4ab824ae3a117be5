"""Exports: the archive handed over, the open data, the scheme's yearly report."""
