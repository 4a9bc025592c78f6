"""The disgust classifier recipe: the industrial cold-start recipe for a rare, nauseating-content class.

>>> from creative4u.train.disgust.config import load_train_config
>>> load_train_config("recipes/disgust/config_cpu_standin.yaml", ["data_dir=/data/d"]).backbone
'tiny'

Modules: :mod:`.config` (the recipe's settings), :mod:`.data` (folder layout, validation, augmentation),
:mod:`.model` (backbone + CBAM + head, the two-stage cascade, save/load), :mod:`.train` (mean teacher, OHEM,
focal loss / balanced sampling), :mod:`.calibrate` (threshold for a target precision), :mod:`.active` (which
unlabelled images to send to annotators), :mod:`.export` (ONNX, verified against torch) and :mod:`.gradcam`.
Importing this package imports nothing heavy; the modules import torch and transformers themselves.
The trained folder feeds the ``disgust`` check (:mod:`creative4u.checks.disgust`).
"""
