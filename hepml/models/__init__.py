"""Neural architectures: plain torch modules, one per file (no Hydra, no data or task imports)."""
