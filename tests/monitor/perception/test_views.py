import numpy as np
import pytest

from monitor.errors import EngageError
from monitor.perception.views import View, parse_views


@pytest.mark.parametrize(
    ("name", "view"),
    [
        ("full", View()),
        ("mirror", View(mirror=True)),
        ("centre90", View(0.9)),
        ("centre85-mirror", View(0.85, mirror=True)),
    ],
)
def test_names_parse_and_print_back(name, view):
    assert View.parse(name) == view and str(view) == name


@pytest.mark.parametrize("name", ["", "zoom", "centre", "centre9", "centre100", "centre40", "full-mirror", "mirror90"])
def test_unknown_names_are_errors(name):
    with pytest.raises(EngageError, match="unknown view"):
        View.parse(name)


def test_views_are_at_least_one_and_distinct():
    assert parse_views(["full", "mirror"]) == (View(), View(mirror=True))
    for names in ([], ["full", "full"]):
        with pytest.raises(EngageError, match="at least one, none twice"):
            parse_views(names)


def test_centre_view_keeps_the_middle_of_any_shape_and_channels():
    crop = np.arange(48 * 60 * 3).reshape(48, 60, 3)
    centre = View(0.9).of(crop)
    assert centre.shape == (43, 54, 3)
    np.testing.assert_array_equal(centre, crop[2:45, 3:57])
    np.testing.assert_array_equal(View(0.9, mirror=True).of(crop), crop[2:45, 3:57][:, ::-1])
    assert View(0.5).of(np.zeros((1, 1))).shape == (1, 1)
