"""Reason-to-Select training: CoT-SFT and GRPO recipes (TRL + PEFT), rewards, export and the CPU learnability run.

>>> from creative4u.train.rewards import REWARDS
>>> "answer_correct" in REWARDS
True

Importing this package is light; the recipes (``sft``, ``grpo``, ``export``, ``learnability``) import torch, TRL and
PEFT themselves. Run them with ``creative4u train sft|grpo|tiny --config FILE`` and ``creative4u export``.
"""
