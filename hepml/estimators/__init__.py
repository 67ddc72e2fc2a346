"""Non-neural models (boosted trees, later cut-based taggers) that share data, checkpoints,
predictions and plots with the neural tasks but are fitted outside the Lightning loop."""
