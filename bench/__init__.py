"""Benchmarks of Vaern; not part of the installed package. See bench/README.md."""
