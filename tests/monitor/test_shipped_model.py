"""The bundled default model: loads offline, matches its card, and its card reports PrivateTest metrics."""

import numpy as np

from monitor.core import CLASSES, engagement_index
from monitor.perception.model import ExpressionClassifier, default_model_path


def test_bundled_model_loads_offline_and_matches_its_card():
    classifier = ExpressionClassifier()
    card = classifier.card
    assert classifier.model_path == default_model_path()
    assert tuple(card.classes) == CLASSES and card.color == "gray"
    assert classifier.predict([np.zeros((90, 90, 3), np.uint8)]).shape == (1, 3)
    assert default_model_path().stat().st_size < 8 * 2**20


def test_card_reports_privatetest_metrics_for_both_label_sets():
    card = ExpressionClassifier().card
    for key in ("fer2013_privatetest", "ferplus_privatetest"):
        metrics = card.metrics[key]
        assert 0.5 < metrics["accuracy"] <= 1 and 0.5 < metrics["macro_f1"] <= 1
        assert set(metrics["per_class"]) == set(CLASSES)
        confusion = np.array(metrics["confusion"])
        assert confusion.shape == (3, 3) and confusion.sum() == metrics["images"]
        assert abs(np.trace(confusion) / confusion.sum() - metrics["accuracy"]) < 1e-3
    assert card.mapping["happy"] == "positive" and card.mapping["neutral"] == "neutral"


def test_bundled_model_smiles_at_the_bundled_portrait_through_the_runtime_crop():
    from monitor.demo import portrait
    from monitor.perception.align import face_crop
    from monitor.perception.detect import create_detector

    image = portrait()
    (face,) = create_detector().detect(image)
    probabilities = ExpressionClassifier().predict([face_crop(image, face)])
    assert probabilities[0].argmax() == CLASSES.index("positive")
    assert engagement_index(probabilities)[0] > 0.6
