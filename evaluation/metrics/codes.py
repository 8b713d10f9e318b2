"""The event types and answer codes the metrics index by."""

#: The event types, in the model's head order (mirrors ``modelzoo.nn.model.HEAD_NAMES``).
EVENT_TYPES: tuple[str, ...] = ("continuous", "instant", "onset", "visual", "audio")
#: The audio-visual heads compared in Table 3.
AV_HEADS: tuple[str, ...] = ("continuous", "instant", "onset")

ANSWERS: tuple[str, ...] = ("present", "absent", "unsure")
PRESENT, ABSENT, UNSURE = 0, 1, 2
