"""LightningModules that bundle a model with its head, loss, metrics and prediction outputs."""
