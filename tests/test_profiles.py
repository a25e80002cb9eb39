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


def test_bf16_native_is_resolved_by_the_hardware(monkeypatch):
    """quick and full train in bf16 only where the device computes it in hardware; the resolved
    value is what runs and records keep, and ``--set bf16=native`` resolves the same way."""
    from vgglib import profiles

    try:
        for native in (True, False):
            monkeypatch.setattr(profiles, "native_bf16", lambda native=native: native)
            profiles.profiles.cache_clear()
            assert (get_profile("quick").bf16, get_profile("full").bf16) == (native, native)
            assert get_profile("smoke").bf16 is False
            assert profiles.parse_field("bf16", "Native") is native
    finally:
        profiles.profiles.cache_clear()
    with pytest.raises(ValueError, match="bf16 = 'maybe'; write true, false or \"native\""):
        profiles.resolved_bf16("maybe")


def test_native_bf16_agrees_with_the_kernels_cpu_flags():
    """On a CPU-only Linux machine: bf16 counts as native exactly where the kernel reports
    AVX-512 BF16 or AMX tiles (an AVX2-only CPU emulates it, many times slower than fp32)."""
    import pathlib

    import torch

    from vgglib.profiles import native_bf16

    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if torch.cuda.is_available() or not cpuinfo.exists():
        pytest.skip("needs a CPU-only Linux machine")
    assert native_bf16() is bool({"avx512_bf16", "amx_tile"} & set(cpuinfo.read_text().split()))


def test_departures_say_where_bf16_is_used():
    from vgglib import departures

    row = departures.frame("quick").set_index("what").loc["bf16 autocast (training and evaluation)"]
    assert row["ours"] == "where the hardware computes bf16, else fp32" and "emulated" in row["why"]


def test_the_machine_line_names_the_vector_extension_and_native_bf16():
    """Provenance tells two CPUs of one model name apart by what sets their training speed."""
    import torch

    from vgglib.profiles import native_bf16
    from vgglib.results import hardware

    if torch.cuda.is_available():
        pytest.skip("a GPU machine is named by its GPUs")
    line = hardware()
    assert f", {torch.backends.cpu.get_cpu_capability()}" in line and line.endswith(", CPU only")
    assert ("bf16 in hardware" in line) is native_bf16()
