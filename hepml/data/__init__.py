"""Data access: file readers, datasets and preprocessing."""
