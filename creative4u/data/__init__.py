"""Data: the CreativePair format, real photo sources, degradations and pair builders."""
