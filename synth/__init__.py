"""Synthetic local authority: DfE-shaped extracts with ground truth, for demos, tests and benchmarks."""
