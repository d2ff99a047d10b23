"""The economy files shipped in the package: found by name wherever marketsai is installed,
listed, carried by the wheel, and a single copy (the repository's economies/ is a link)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import marketsai as mai
from marketsai.cli import main
from marketsai.errors import SpecError
from marketsai.runner import load_experiment
from marketsai.shipped import FOLDER, economy_file, shipped_economies

ROOT = Path(__file__).resolve().parents[1]


def test_one_copy_of_each_file_reachable_from_the_repository_paths():
    names = sorted(shipped_economies())
    assert len(names) >= 20 and "bertrand_duopoly" in names
    assert (ROOT / "economies").resolve() == FOLDER.resolve()  # a link, not a second copy
    for name, path in shipped_economies().items():
        assert mai.load_economy(path).spec.name == name  # the name is the file's own name field


def test_a_shipped_economy_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    econ = mai.load_economy("calvano_n3", overrides={"discount": 0.9})
    assert len(econ.agents) == 3 and econ.discount == 0.9
    assert economy_file("calvano_n3.yaml") == economy_file("calvano_n3") == FOLDER / "calvano_n3.yaml"
    exp = load_experiment({"kind": "tabular", "economy": "bertrand_duopoly", "sessions": 2})
    assert exp.config["economy"]["name"] == "bertrand_duopoly"
    own = tmp_path / "bertrand_duopoly"  # a file of that name wins over the shipped one
    own.write_text((FOLDER / "monopolist.yaml").read_text())
    assert mai.load_economy("bertrand_duopoly").spec.name == "monopolist"


@pytest.mark.parametrize("value", ["bertrand_duopol", "economies/bertrand_duopol.yaml"])
def test_an_unknown_name_says_the_nearest_and_lists_the_shipped_ones(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    message = (r"economy = '.*bertrand_duopol(\.yaml)?': no such economy file or shipped economy; "
               r"did you mean 'bertrand_duopoly'\? \(shipped: aiyagari, bertrand_duopoly, .*"
               r"two_sector_labor\) \(allowed: a path .*, or the name of a shipped economy\)")
    with pytest.raises(SpecError, match=message):
        mai.load_economy(value)
    with pytest.raises(SpecError, match=message):
        load_experiment({"kind": "tabular", "economy": value})


def test_list_and_validate_show_the_shipped_economies():
    listed = CliRunner().invoke(main, ["list"])
    assert listed.exit_code == 0, listed.output
    section = listed.output.split("economies:\n")[1]
    assert all(f"  {name} " in section for name in shipped_economies())
    assert "Calvano et al. (2020) baseline" in section
    shown = CliRunner().invoke(main, ["validate", "klein_k6"])
    assert shown.exit_code == 0 and "name: klein_k6" in shown.output, shown.output
    misspelt = CliRunner().invoke(main, ["validate", "klein_k7"])  # the CLI's FILE, not only Python
    assert misspelt.exit_code != 0
    assert "did you mean 'klein_k6'?" in misspelt.output and "(shipped: aiyagari," in misspelt.output, misspelt.output


def test_the_wheel_carries_them_and_an_install_loads_one_by_name(tmp_path):
    """A wheel built from a copy of the package (not the checkout: no link, no repository
    around it), unpacked and imported from an empty folder."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "marketsai", src / "marketsai", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                            "--no-build-isolation", "-q", "-w", str(tmp_path / "wheel")],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        carried = {Path(n).stem for n in zf.namelist() if n.startswith("marketsai/economies/")}
        zf.extractall(tmp_path / "site")
    assert carried == set(shipped_economies())
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    code = ("import marketsai as mai; e = mai.load_economy('klein_k6'); "
            "print(mai.__file__, e.spec.name, len(e.agents))")
    out = subprocess.run([sys.executable, "-c", code], cwd=empty, capture_output=True, text=True,
                         timeout=300, env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    where, name, agents = out.stdout.split()
    assert where.startswith(str(tmp_path / "site")) and name == "klein_k6" and agents == "2"
