"""Models stage: train, calibrate, evaluate, explain, review fairness, register and promote."""
