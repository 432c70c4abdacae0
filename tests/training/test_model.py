import numpy as np

from training.config import TrainConfig
from training.labels import LabelMapping
from training.model import backbone_of, build_model, main_head, sum_into_classes
from training.train import initial_model


def test_summing_into_classes_adds_up_each_class_emotions():
    model = build_model(32, 0.25, outputs=8)
    matrix = LabelMapping().class_matrix()
    faces = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    summed = sum_into_classes(model, matrix).predict(faces, verbose=0)
    np.testing.assert_allclose(summed, model.predict(faces, verbose=0) @ matrix, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(summed.sum(axis=1), 1.0, rtol=1e-5)


def test_an_emotion_head_starts_from_a_class_models_backbone_at_another_size(tmp_path):
    source = build_model(32, 0.25)
    source.save(tmp_path / "classes.keras")
    config = TrainConfig(
        data=[], out=tmp_path, input_size=40, alpha=0.25, head="emotions", init_from=tmp_path / "classes.keras"
    )
    model = initial_model(config, outputs=8)
    assert model.input.shape[1:3] == (40, 40) and model.output.shape[-1] == 8
    for copied, original in zip(backbone_of(model).get_weights(), backbone_of(source).get_weights(), strict=True):
        np.testing.assert_array_equal(copied, original)


def test_an_auxiliary_head_starts_from_the_source_main_head_and_is_cut_off_for_export(tmp_path):
    source = build_model(32, 0.25)
    source.save(tmp_path / "classes.keras")
    config = TrainConfig(
        data=[],
        out=tmp_path,
        alpha=0.25,
        input_size=32,
        aux_labels=tmp_path / "fer2013",
        init_from=tmp_path / "classes.keras",
    )
    model = initial_model(config, outputs=3)
    faces = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    both = model.predict(faces, verbose=0)
    assert both.shape == (4, 6)
    np.testing.assert_allclose(both[:, :3], source.predict(faces, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(both[:, 3:], both[:, :3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(main_head(model).predict(faces, verbose=0), both[:, :3], rtol=1e-5, atol=1e-6)
