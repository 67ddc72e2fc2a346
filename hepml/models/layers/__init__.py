"""Blocks shared by several models."""
