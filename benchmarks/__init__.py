"""The benchmark harnesses (docs/benchmarks.md), beside the code they measure, as dramatiq keeps
its own: `oms bench ingest|poll` (cli/commands/bench.py) is a thin entry to them. They sit at the
top of the layers, beside `cli`; the domain and the workers never import them."""
