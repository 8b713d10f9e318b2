"""The product's training labels follow the nn library's one LLP rule, not a copy of it."""

from modelzoo import selectors
from modelzoo.nn import labels


def test_product_single_label_is_the_nn_rule():
    assert selectors.single_label is labels.single_label
