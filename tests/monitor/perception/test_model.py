import json
import shutil

import numpy as np
import pytest

from monitor.core import CLASSES
from monitor.errors import EngageError
from monitor.perception.model import ExpressionClassifier, ModelCard, card_path_for, with_class_bias


def test_tiny_model_classifies_crops_of_any_size_and_colour_in_one_batch(tiny_model):
    classifier = ExpressionClassifier(tiny_model)
    crops = [
        np.zeros((120, 90, 3), np.uint8),
        np.full((20, 20), 128, np.uint8),
        np.zeros((50, 50, 4), np.uint8),
    ]
    probs = classifier.predict(crops)
    assert probs.shape == (3, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert classifier.predict([]).shape == (0, 3)
    assert classifier.predict(crops[:1]).shape == (1, 3)


def test_card_views_are_averaged(tiny_model):
    classifier = ExpressionClassifier(tiny_model)
    crops = np.random.default_rng(1).integers(0, 255, (2, 40, 40), dtype=np.uint8)
    views = [crops[:, :, ::-1], crops[:, 2:38, 2:38], crops[:, 2:38, 38:1:-1]]  # mirror, centre90, centre90-mirror
    plain = [classifier.predict(list(images)) for images in (crops, *views)]
    classifier.card.views = ["full", "mirror", "centre90", "centre90-mirror"]
    np.testing.assert_allclose(classifier.predict(list(crops)), np.mean(plain, axis=0), atol=1e-5)


def test_one_view_at_a_time_costs_one_input_a_crop_and_the_views_in_turn_average_to_all_of_them(tiny_model):
    classifier = ExpressionClassifier(tiny_model)
    classifier.card.views = ["full", "mirror", "centre90"]
    crops = list(np.random.default_rng(2).integers(0, 255, (2, 40, 40), dtype=np.uint8))
    each = [classifier.predict(crops, view) for view in range(3)]
    np.testing.assert_allclose(
        classifier.predict(crops, 1),
        ExpressionClassifier(tiny_model).predict([crop[:, ::-1] for crop in crops]),
        atol=1e-5,
    )
    np.testing.assert_allclose(classifier.predict(crops, 4), each[1], atol=1e-6)  # the index wraps around
    np.testing.assert_allclose(np.mean(each, axis=0), classifier.predict(crops), atol=1e-5)


def test_cards_from_before_views_keep_mirror_averaging(tiny_model, tmp_path):
    card = json.loads(card_path_for(tiny_model).read_text())
    del card["views"]
    card["flip_average"] = True
    (tmp_path / "old.json").write_text(json.dumps(card))
    assert ModelCard.read(tmp_path / "old.json").views == ["full", "mirror"]
    card["views"] = ["centre30"]
    (tmp_path / "bad.json").write_text(json.dumps(card))
    with pytest.raises(EngageError, match=r"bad.json: unknown view 'centre30'"):
        ModelCard.read(tmp_path / "bad.json")


def test_missing_or_corrupt_model_and_card_are_clear_errors(tiny_model, tmp_path):
    with pytest.raises(EngageError, match=r"model file .* is missing"):
        ExpressionClassifier(tmp_path / "none.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a flatbuffer at all" * 10)
    shutil.copy(card_path_for(tiny_model), card_path_for(broken))
    with pytest.raises(EngageError, match="could not be loaded"):
        ExpressionClassifier(broken)
    nocard = tmp_path / "nocard.onnx"
    shutil.copy(tiny_model, nocard)
    with pytest.raises(EngageError, match=r"card .* is missing"):
        ExpressionClassifier(nocard)
    card_path_for(nocard).write_text("{not json")
    with pytest.raises(EngageError, match="not a valid card"):
        ExpressionClassifier(nocard)


def test_card_must_match_model_input(tiny_model, tmp_path):
    model = tmp_path / "m.onnx"
    shutil.copy(tiny_model, model)
    card = json.loads(card_path_for(tiny_model).read_text())
    card["input_size"] = 48
    card_path_for(model).write_text(json.dumps(card))
    with pytest.raises(EngageError, match="does not match its card"):
        ExpressionClassifier(model)


def test_card_round_trip(tmp_path):
    card = ModelCard(version="v1", input_size=64, metrics={"a": {"accuracy": 0.9}})
    card.write(tmp_path / "c.json")
    again = ModelCard.read(tmp_path / "c.json")
    assert again == card and tuple(again.classes) == CLASSES


def test_card_class_bias_shifts_the_probabilities_the_runtime_returns(tiny_model):
    classifier = ExpressionClassifier(tiny_model)
    crops = list(np.random.default_rng(2).integers(0, 255, (4, 40, 40), dtype=np.uint8))
    plain = classifier.predict(crops)
    assert with_class_bias(plain, [0.0, 0.0, 0.0]) is plain
    classifier.card.class_bias = [0.0, 0.0, 5.0]
    shifted = classifier.predict(crops)
    np.testing.assert_allclose(shifted.sum(axis=1), 1.0, atol=1e-5)
    assert (shifted[:, 2] > plain[:, 2]).all() and (shifted.argmax(axis=1) == 2).all()
    expected = plain * np.exp([0.0, 0.0, 5.0])
    np.testing.assert_allclose(shifted, expected / expected.sum(axis=1, keepdims=True), rtol=1e-4)


@pytest.mark.parametrize("bias", [[0.0, 1.0], [0.0, "high", 0.0]])
def test_a_card_with_a_malformed_class_bias_is_refused(tiny_model, tmp_path, bias):
    card = json.loads(card_path_for(tiny_model).read_text()) | {"class_bias": bias}
    (tmp_path / "bad.json").write_text(json.dumps(card))
    with pytest.raises(EngageError, match=r"class_bias must be (3 numbers|list\[float\])"):
        ModelCard.read(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("input_size", "96", "input_size must be int, got '96'"),
        ("views", "full", r"views must be list\[str\], got 'full'"),
        ("mapping", {"happy": 1}, r"mapping must be dict\[str, str\]"),
        ("version", None, "version must be str, got None"),
    ],
)
def test_every_card_field_is_checked_against_its_type(tiny_model, tmp_path, field, value, message):
    card = json.loads(card_path_for(tiny_model).read_text()) | {field: value}
    (tmp_path / "bad.json").write_text(json.dumps(card))
    with pytest.raises(EngageError, match=message):
        ModelCard.read(tmp_path / "bad.json")
