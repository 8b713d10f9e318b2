"""The event-specific audio-visual model (pure PyTorch; never imports Django).

config (ModelConfig, TrainConfig, get_config) -> media (decode_clip) -> features (log_mel,
onset_steps) -> backbones + heads -> model (build_model, vote, union, event types) -> data
(cached clip features, batches) -> loop (train_one_epoch, evaluate) -> checkpoint -> train
(fit, train_recipe; progress as ``events``) -> infer (predict -> ClipPrediction).
Modules are imported explicitly (``from modelzoo.nn.model import build_model``) so that importing
the package stays cheap.
"""
