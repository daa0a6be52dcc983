"""Benchmarking on the test split: metrics, bootstrap, baselines, tables, charts and the report page."""
