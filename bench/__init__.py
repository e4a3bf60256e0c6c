"""The benchmarks of `liangdi bench` (docs/performance.md)."""
