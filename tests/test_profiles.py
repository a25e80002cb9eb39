"""One source of settings: profiles.toml's defaults, each profile's differences, and the
per-part sections, with errors that name the choices instead of silent fallbacks."""
import pytest

from vgglib import box_data
from vgglib.profiles import LocalisationSettings, get_profile


def test_defaults_are_the_papers_and_profiles_change_only_what_they_say():
    full, quick = get_profile("full"), get_profile("quick")
    assert (full.crop, full.batch, full.lr, full.weight_decay, full.max_epochs) == (224, 256, 1e-2, 5e-4, 74)
    assert (quick.crop, quick.batch, quick.lr, quick.momentum) == (32, 128, 1e-2, 0.9)
    assert full.localisation == LocalisationSettings(lr=1e-3) and full.transfer is None


def test_part_settings_come_from_the_profile_and_never_fall_back():
    assert box_data.canvas_settings(get_profile("smoke")).test == 64
    assert get_profile("quick").section("transfer").voc == (1200, 300, 1500)
    with pytest.raises(ValueError, match=r"no \[full.transfer\] settings .* quick, smoke"):
        get_profile("full").section("transfer")
    with pytest.raises(ValueError, match="sets no canvas side"):
        box_data.canvas_settings(get_profile("full"))
    with pytest.raises(ValueError, match="unknown settings section 'boxes'; valid: localisation, transfer"):
        get_profile("smoke").section("boxes")
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("tiny")


def test_every_departure_of_every_profile_is_explained():
    from vgglib import departures

    quick = departures.frame("quick")
    assert {"crop size; every scale S, Q mapped by round(v·crop/224)", "batch size", "init scale",
            "image size", "pool5 at a 32-px crop"} <= set(quick["what"])
    assert (quick[["why", "measured"]] != "").all().all()
    full = departures.frame("full")
    # full keeps every setting the paper gives: its departures are readings, seeds, and the settings the paper
    # never gives, whose paper column says so
    given = full[~full["paper"].str.startswith(departures.NOT_GIVEN)]
    assert set(given["what"]) == {"init scale", "colour shift", "when training stops"}
    assert {"bf16 autocast (training and evaluation)", "checkpoint interval (steps)"} <= set(full["what"])
    assert "test images used" in set(departures.frame("smoke")["what"])
