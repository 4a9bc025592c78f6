"""creative4u: pick the better advertising creative and say why.

>>> import creative4u
>>> creative4u.__version__
'0.1.0'

The top-level import stays light (no torch, no OCR models): heavy parts load on first use.
"""

__version__ = "0.1.0"
