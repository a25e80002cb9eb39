"""vgglib.fetch takes the first way this machine allows, and refuses corrupt downloads.

The probes (found / apt / network), apt itself and the transfer are replaced: nothing here
downloads or calls apt."""
import gzip
import hashlib
from pathlib import Path

import pytest

from vgglib import data, fetch

FOUND = Path("/somewhere/fashion-mnist")


class Machine:
    """A fake machine: which probes answer yes, and a record of what fetch did on it."""

    def __init__(self, monkeypatch, found=False, apt=False, network=False, apt_provides=True):
        self.found, self.calls = found, []
        monkeypatch.setattr(fetch, "find_fashion_mnist", lambda root: FOUND if self.found else None)
        monkeypatch.setattr(fetch, "apt_available", lambda: apt)
        monkeypatch.setattr(fetch, "network_available", lambda: network)
        monkeypatch.setattr(fetch, "chromium", lambda: "/usr/bin/chromium" if self.found else None)

        def apt_install(package: str) -> bool:
            self.calls.append(("apt", package))
            self.found = apt_provides
            return apt_provides

        def download(dest=None) -> Path:
            self.calls.append(("download",))
            return Path("/cache")

        monkeypatch.setattr(fetch, "apt_install", apt_install)
        monkeypatch.setattr(data, "download_fashion_mnist", download)


def test_fashion_mnist_found_is_left_alone(monkeypatch, capsys):
    machine = Machine(monkeypatch, found=True, apt=True, network=True)
    assert fetch.main(["fashion-mnist"]) == 0
    assert machine.calls == [] and str(FOUND) in capsys.readouterr().out


def test_fashion_mnist_from_debian_as_root(monkeypatch, capsys):
    machine = Machine(monkeypatch, apt=True, network=True)
    assert fetch.main(["fashion-mnist"]) == 0
    assert machine.calls == [("apt", "dataset-fashion-mnist")] and str(FOUND) in capsys.readouterr().out


@pytest.mark.parametrize("apt", [False, True], ids=["no-apt", "apt-without-the-package"])
def test_fashion_mnist_downloaded_when_apt_cannot(monkeypatch, capsys, apt):
    machine = Machine(monkeypatch, apt=apt, network=True, apt_provides=False)
    assert fetch.main(["fashion-mnist"]) == 0
    assert machine.calls[-1] == ("download",) and "/cache" in capsys.readouterr().out


def test_fashion_mnist_no_way_names_all_three_and_exits_2(monkeypatch, capsys):
    machine = Machine(monkeypatch)
    assert fetch.main(["fashion-mnist"]) == 2
    assert machine.calls == []
    err = capsys.readouterr().err
    assert 1 <= len(err.strip().splitlines()) <= 3 and "Traceback" not in err
    for way in ("apt-get install dataset-fashion-mnist", "DATA=/path", "vgglib.fetch fashion-mnist"):
        assert way in err


def test_apt_install_reads_the_lists_only_for_an_unknown_package(monkeypatch):
    commands = []

    def run(cmd, **kw):
        commands.append(cmd[:2])
        return type("Done", (), {"returncode": 100 if cmd[:2] == ["apt-cache", "show"] else 0})()

    monkeypatch.setattr(fetch.subprocess, "run", run)
    assert fetch.apt_install("dataset-fashion-mnist")
    assert commands == [["apt-cache", "show"], ["apt-get", "update"], ["apt-get", "install"]]


def test_chromium(monkeypatch, capsys):
    machine = Machine(monkeypatch, found=True, apt=True)
    assert fetch.main(["chromium"]) == 0 and machine.calls == []
    machine = Machine(monkeypatch, apt=True)
    assert fetch.main(["chromium"]) == 0 and machine.calls == [("apt", "chromium")]
    machine = Machine(monkeypatch)
    assert fetch.main(["chromium"]) == 0 and machine.calls == []
    assert "apt-get install chromium" in capsys.readouterr().out


def fake_download(payloads: dict[str, bytes]):
    """A stand-in for data._download serving ``payloads`` by file name."""
    def download(url: str, dest: Path) -> None:
        dest.write_bytes(payloads[url.rsplit("/", 1)[-1]])
    return download


def test_download_checks_every_file_and_refuses_a_mismatch(tmp_path, monkeypatch):
    payloads = {f"{n}.gz": gzip.compress(n.encode()) for n in data.FASHION_MNIST_FILES}
    monkeypatch.setattr(data, "FASHION_MNIST_SHA256",
                        {n: hashlib.sha256(n.encode()).hexdigest() for n in data.FASHION_MNIST_FILES})
    monkeypatch.setattr(data, "_download", fake_download(payloads))
    assert data.download_fashion_mnist(tmp_path / "ok") == tmp_path / "ok"
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted(payloads)

    payloads["t10k-labels-idx1-ubyte.gz"] = gzip.compress(b"not the labels")
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz.*checksum mismatch"):
        data.download_fashion_mnist(tmp_path / "bad")
    assert not list((tmp_path / "bad").glob("t10k-labels*")), "a corrupt file was kept"


def test_known_sums_match_debians_files():
    if not all((data.DEBIAN_FASHION_MNIST / f"{n}.gz").exists() for n in data.FASHION_MNIST_FILES):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    for name in data.FASHION_MNIST_FILES:
        data.verify_fashion_mnist_file(data.DEBIAN_FASHION_MNIST / f"{name}.gz", name)
