"""Helpers for tests and demos: tiny, locally built models of the real architectures (see `tiny_vlm`)."""
