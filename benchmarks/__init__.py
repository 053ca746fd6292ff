"""Benchmarks (not tests): ``make bench`` or ``python -m benchmarks --reports 100000``.

They start a throw-away PostgreSQL 15 cluster, load the demo tree and N open reports with COPY,
and time the deadline statements that run over the whole table. Results go to
docs/PERFORMANCE.md by hand; see that file for the figures and the command.
"""
