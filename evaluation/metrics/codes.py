"""The event types and answer codes the metrics index by."""

#: The event types, in the model's head order (mirrors ``modelzoo.nn.model.HEAD_NAMES``).
EVENT_TYPES: tuple[str, ...] = ("continuous", "instant", "onset", "visual", "audio")
#: The audio-visual heads compared in Table 3.
AV_HEADS: tuple[str, ...] = ("continuous", "instant", "onset")

ANSWERS: tuple[str, ...] = ("present", "absent", "unsure")
PRESENT, ABSENT, UNSURE = 0, 1, 2

#: Where a present label is, as raters answer it: heard only, seen only, both.
MODALITIES: tuple[str, ...] = ("A", "V", "AV")
#: The modality each event type's head stands for (audio head: heard; visual head: seen).
EVENT_TYPE_MODALITY: dict[str, str] = {
    "continuous": "AV",
    "instant": "AV",
    "onset": "AV",
    "visual": "V",
    "audio": "A",
}
