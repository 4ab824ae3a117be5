"""SEDA 2.1 transfer packages (see :mod:`pipeline.exports.seda.package`)."""
