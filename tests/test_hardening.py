"""Issue 11 (hardening): each attack, reproduced from a small file or command, gives our
clear error -- bounded in time (pytest-timeout) and, where it used to eat memory, run in
a subprocess under ``RLIMIT_AS`` so that a regression fails fast instead of swapping.

Findings 1 (size limits), 2 (YAML alias bombs), 4 (numeric rllib settings, binary
files) and 6 (self-contained docs, published values in figures and summaries). Run
folders (3) are in test_hardening_runs.py, checkpoints (5) in test_hardening_rl.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from marketsai import limits
from marketsai.errors import SpecError, quote
from marketsai.yamlio import parse_yaml, read_yaml

ROOT = Path(__file__).resolve().parents[1]
DUOPOLY = ROOT / "economies" / "bertrand_duopoly.yaml"
BASELINE = ROOT / "experiments" / "calvano2020" / "baseline.yaml"
MEMORY = 1536 * 2**20  # address space of a bounded CLI run; a regression dies here, fast


def cli_limited(*args, timeout=60, cwd=ROOT):
    """``marketsai ARGS`` in a subprocess limited to MEMORY bytes of address space."""
    prog = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))\n"
            f"sys.argv = ['marketsai', *{list(map(str, args))!r}]\n"
            "from marketsai.cli import main\nmain()\n")
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def assert_clear_error(proc, *needles):
    """Exit code 1, one ``error:`` line naming ``needles``, no traceback."""
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    err = proc.stderr.strip()
    assert err.startswith("error:"), err[-2000:]
    for needle in needles:
        assert needle in err, err
    assert len(err) < 1500  # quoted values are cut
    return err


def bomb(levels=9, width=10, name="x") -> str:
    """YAML anchors nested ``levels`` deep: width**levels values from a few hundred bytes."""
    lines = [f"{name}0: &{name}0 [" + ", ".join(["1"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{name}{i}: &{name}{i} [" + ", ".join([f"*{name}{i - 1}"] * width) + "]")
    return "\n".join(lines)


def economy_text(**agent) -> str:
    econ = yaml.safe_load(DUOPOLY.read_text())
    econ["agents"][0].update(agent)
    return yaml.safe_dump(econ)


# ---------------------------------------------------------------- 1. size limits
@pytest.mark.timeout(60)
@pytest.mark.parametrize("field, value, path", [
    ("count", 10**12, "agents[0].count"),
    ("action", {"kind": "grid", "points": 10**9}, "agents[0].action.points"),
    ("observation", {"memory": 10**6}, "agents[0].observation.memory"),
])
def test_economy_sizes_are_refused_before_allocating(tmp_path, field, value, path):
    f = tmp_path / "big.yaml"
    f.write_text(economy_text(**{field: value}))
    err = assert_clear_error(cli_limited("validate", f), path, "an integer in [")
    assert str(limits.MAX_AGENTS if field == "count" else "") in err


@pytest.mark.timeout(60)
def test_total_agent_count_is_bounded(tmp_path):
    econ = yaml.safe_load(DUOPOLY.read_text())
    half = limits.MAX_AGENTS // 2 + 100
    econ["agents"] = [dict(econ["agents"][0], name=f"f{k}", count=half) for k in range(2)]
    f = tmp_path / "many.yaml"
    f.write_text(yaml.safe_dump(econ))
    assert_clear_error(cli_limited("validate", f), "agents[1].count", "too many agents")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("setting, path", [
    ("sessions=1000000000000", "sessions"),
    ("learner.max_periods=1e30", "learner.max_periods"),
    ("sweep={seed: {linspace: [0, 1, 1000000000000]}}", "sweep.seed"),
    ("sweep={seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], learner.alpha: {linspace: [0.1, 0.2, 10000]},"
     " learner.beta: {linspace: [0.1, 0.2, 10000]}}", "sweep.learner"),
])
def test_experiment_sizes_are_refused_before_allocating(setting, path):
    assert_clear_error(cli_limited("validate", BASELINE, "--set", setting), path)


@pytest.mark.timeout(120)
def test_max_periods_1e30_is_refused_before_the_run_folder_exists(tmp_path):
    out = tmp_path / "run"
    proc = cli_limited("run", BASELINE, "--out", out, "--set", "learner.max_periods=1e30",
                       "--no-progress")
    assert_clear_error(proc, "learner.max_periods = 1e+30", "too large")
    assert not out.exists()


@pytest.mark.timeout(120)
def test_memory_50_message_prints_a_readable_size(tmp_path):
    from marketsai.runner import run_experiment
    econ = tmp_path / "econ.yaml"
    econ.write_text(economy_text(observation={"memory": 50}))
    exp = {"kind": "tabular", "economy": str(econ), "sessions": 2}
    with pytest.raises(SpecError) as info:
        run_experiment(exp, out=tmp_path / "run", progress=False)
    msg = str(info.value)
    assert re.search(r"\d{20}", msg) is None, msg  # no 111-digit number of GB
    assert "YiB" in msg and len(msg) < 600
    assert not (tmp_path / "run").exists()  # refused before the run folder is made


def test_format_bytes_is_readable_at_any_size():
    assert limits.format_bytes(3 * 1024**3) == "3.0 GiB"
    assert len(limits.format_bytes(225.0**50 * 15 * 16)) < 16


# ---------------------------------------------------------------- 2. YAML alias bombs
@pytest.mark.timeout(60)
def test_alias_bomb_in_a_tabular_reference_is_refused(tmp_path):
    f = tmp_path / "bomb.yaml"
    f.write_text(f"kind: tabular\neconomy: {DUOPOLY}\nsessions: 2\nreference:\n" + _indent(bomb()))
    assert_clear_error(cli_limited("validate", f), "expands to more than", "aliases")
    assert_clear_error(cli_limited("run", f, "--out", tmp_path / "r"), "expands to more than")
    assert not (tmp_path / "r").exists()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("section", ["model", "settings"])
def test_alias_bomb_in_rllib_algorithm_sections_is_refused(tmp_path, section):
    f = tmp_path / "bomb.yaml"
    f.write_text(f"kind: rllib\neconomy: {DUOPOLY}\nalgorithm:\n  name: PPO\n  {section}:\n"
                 + _indent(bomb(), 4) + "stop: {training_iteration: 1}\n"
                 "resources: {num_env_runners: 0}\n")
    for cmd in ("validate", "train"):
        assert_clear_error(cli_limited(cmd, f), "expands to more than")


@pytest.mark.timeout(30)
def test_accepted_aliases_and_errors_about_them_stay_small():
    # below the node limit: accepted, and an error quoting the value is short and fast
    data = parse_yaml(bomb(levels=5) + "\nv: *x4")
    assert len(data["v"]) == 10
    err = SpecError("invalid value", path="learner.alpha", value=data["v"])
    assert len(str(err)) < 400


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text, needle", [
    ("a: &a [*a]", "refers to a node that contains it"),
    ("a: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("a: " + "1" * 5000, "invalid value"),
    ("a: !!python/object/apply:os.system ['true']", "could not determine a constructor"),
    ("a: \x00", "unacceptable character"),
])
def test_hostile_yaml_gives_our_error(text, needle):
    with pytest.raises(SpecError, match=re.escape(needle)):
        parse_yaml(text)


def test_the_c_parser_reads_every_shipped_file_as_the_python_parser_does():
    """parse_yaml uses libyaml's parser where PyYAML has it (13x faster): on every shipped
    file it must give what the pure-Python parser with the same resolvers gives, types too."""
    import math

    from marketsai import yamlio

    class PythonLoader(yaml.SafeLoader):
        yaml_implicit_resolvers = yamlio._Loader.yaml_implicit_resolvers

    def same(a, b):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    files = sorted([*ROOT.glob("economies/*.yaml"), *ROOT.glob("experiments/**/*.yaml")])
    assert len(files) > 50
    for f in files:
        text = f.read_text()
        assert same(parse_yaml(text), yaml.load(text, Loader=PythonLoader)), f.name


def test_quote_truncates_long_values():
    assert len(quote("x" * 10**6)) <= limits.MAX_QUOTED
    assert len(quote(list(range(10**6)))) <= limits.MAX_QUOTED
    nested = []
    nested.append(nested)
    assert len(quote(nested)) <= limits.MAX_QUOTED


# ------------------------------------------------- 4. numeric settings, binary files
@pytest.mark.timeout(60)
@pytest.mark.parametrize("key, value", [
    ("lr", -0.001), ("gamma", 1.5), ("train_batch_size_per_learner", -5), ("clip_param", 0),
    ("num_epochs", 0), ("entropy_coeff", [[0, -1.0]]),
])
def test_rllib_numeric_settings_are_range_checked(tmp_path, key, value):
    exp = yaml.safe_load((ROOT / "tests" / "files" / "rllib_ppo_duopoly.yaml").read_text())
    exp["economy"] = str(DUOPOLY)
    exp["algorithm"].setdefault("settings", {})[key] = value
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(exp))
    for cmd in ("validate", "train"):
        assert_clear_error(cli_limited(cmd, f), f"algorithm.settings.{key}", "out of range")


def test_rllib_model_width_and_resources_are_bounded():
    from marketsai.rl.spec import RLExperimentSpec
    base = {"kind": "rllib", "economy": "x.yaml", "algorithm": {"name": "PPO"},
            "stop": {"training_iteration": 1}, "resources": {"num_env_runners": 0}}
    with pytest.raises(SpecError, match=r"algorithm\.model\.fcnet_hiddens"):
        RLExperimentSpec.from_dict({**base, "algorithm": {"name": "PPO",
                                                          "model": {"fcnet_hiddens": [10**9]}}})
    with pytest.raises(SpecError, match="resources.num_env_runners"):
        RLExperimentSpec.from_dict({**base, "resources": {"num_env_runners": 10**9}})
    with pytest.raises(SpecError, match="seeds"):
        RLExperimentSpec.from_dict({**base, "seeds": list(range(10**4))})


@pytest.mark.parametrize("key, value", [
    ("lr", [[100, 1e-3], [200, 1e-4]]),          # RLlib's Scheduler needs the first point at 0
    ("entropy_coeff", [[0, 0.01]]),              # ... and two points or more
    ("epsilon", [[0, 1.0], [50, 0.1], [20, 0.05]]),  # its PiecewiseSchedule, rising timesteps
])
def test_an_rllib_schedule_in_a_form_rllib_refuses_is_our_error(key, value):
    """Checked before Ray starts, as the batched learners' schedules are, instead of a
    ValueError (or an assert) from inside RLlib once training begins."""
    from marketsai.rl.spec import RLExperimentSpec
    base = {"kind": "rllib", "economy": "x.yaml", "stop": {"training_iteration": 1},
            "resources": {"num_env_runners": 0}}
    with pytest.raises(SpecError, match=rf"algorithm\.settings\.{key}.*timestep 0"):
        RLExperimentSpec.from_dict({**base, "algorithm": {"name": "DQN", "settings": {key: value}}})


@pytest.mark.timeout(60)
@pytest.mark.parametrize("cmd", ["validate", "run", "train"])
def test_binary_garbage_as_any_file_gives_our_error(tmp_path, cmd):
    f = tmp_path / "garbage.yaml"
    f.write_bytes(bytes(range(256)) * 4)
    assert_clear_error(cli_limited(cmd, f), "not a text file")


def test_read_yaml_refuses_huge_and_binary_files(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(limits.MAX_FILE_BYTES + 1)
    with pytest.raises(SpecError, match="file too large"):
        read_yaml(big)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        read_yaml(latin)


# ------------------------------------------------- 6. self-contained docs and figures
def test_docs_and_readme_point_inside_the_repository():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in files:
        text = path.read_text()
        assert "shared/" not in text, path
        assert "/work/" not in text, path
    refs = (ROOT / "docs" / "references.md").read_text()
    for number in ("0.849", "0.112", "1.7913", "1.5046", "1.5475", "64.3%", "1.47293", "1.92498"):
        assert number in refs
    assert "American Economic Review" in refs and "doi:10.1257/aer.20190623" in refs


def test_license_is_an_spdx_expression():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_figures_show_the_published_values():
    import pandas as pd

    from marketsai import analysis
    from marketsai.runner.references import annotate_figures
    ref = yaml.safe_load(BASELINE.read_text())["reference"]
    res = pd.DataFrame({"profit_gain": [0.8, 0.9], "cycle_length": [1, 2]})
    tab = pd.DataFrame({"t": [0, 1, 2] * 2, "role": ["deviator"] * 3 + ["rival"] * 3,
                        "agent": [0] * 3 + [1] * 3, "name": ["firm_0"] * 3 + ["firm_1"] * 3,
                        "mean": [1.79, 1.6, 1.7] * 2,
                        "q25": [1.7] * 6, "q75": [1.8] * 6})
    figs = {"profit_gain_histogram": analysis.plot_profit_gain_histogram(res),
            "cycle_lengths": analysis.plot_cycle_shares(analysis.profit_gain_summary(res)),
            "impulse_response_best_response": analysis.plot_impulse_response(tab),
            "impulse_response_calvano_fortran": analysis.plot_impulse_response(tab)}
    annotate_figures(figs, ref)
    for name, fig in figs.items():
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any("published" in lb and "Calvano et al. (2020)" in lb for lb in labels), (name, labels)
    br = [t.get_text() for t in figs["impulse_response_best_response"].axes[0].get_legend().get_texts()]
    assert any("Fortran deviation, not this one" in lb for lb in br)


def test_printed_summary_names_the_published_figure_and_flags_the_deviation():
    from marketsai.runner.run import default_summary_text
    ref = yaml.safe_load(BASELINE.read_text())["reference"]
    summary = {"profit_gain": 0.848, "impulse_best_response_t1_deviator": 1.6106,
               "impulse_calvano_fortran_t1_deviator": 1.5064}
    text = default_summary_text(summary, ref, list(summary))
    rows = {ln.split()[0]: ln for ln in text.splitlines() if ln and not ln.startswith("-")}
    assert "Table I" in rows["profit_gain"] and rows["profit_gain"].split()[-1] == "0.8490"
    assert "Figure 4 [1]" in rows["impulse_best_response_t1_deviator"]
    assert "[1]" not in rows["impulse_calvano_fortran_t1_deviator"]
    note = next(ln for ln in text.splitlines() if ln.startswith("[1]"))
    assert "calvano_fortran" in note and "1.61" in note


def _indent(text: str, n: int = 2) -> str:
    return "\n".join(" " * n + ln for ln in text.splitlines()) + "\n"


@pytest.mark.timeout(60)
def test_memory_reset_table_files_are_never_unpickled(tmp_path):
    """``memory_reset: {to: {file: ...}}`` reads a user's file: a pickle, an .npz, a
    huge or a damaged file is our error, and nothing in it runs."""
    import numpy as np

    from marketsai.economy import load_economy
    from marketsai.interventions.phases import build_phase
    game = load_economy(DUOPOLY).finite_game()
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))
    hostile = np.empty(1, dtype=object)
    hostile[0] = Payload()
    np.save(tmp_path / "hostile.npy", hostile, allow_pickle=True)
    np.savez(tmp_path / "archive.npz", a=np.zeros(3))
    (tmp_path / "damaged.npy").write_bytes(b"\x93NUMPY garbage")
    with open(tmp_path / "huge.npy", "wb") as fh:
        fh.truncate(10**9)  # sparse: no disk used
    good = np.zeros((game.n_states, game.n_actions))
    np.save(tmp_path / "good.npy", good)
    for name in ("hostile.npy", "archive.npz", "damaged.npy", "huge.npy"):
        phase = build_phase({"type": "memory_reset", "firm": 0, "to": {"file": str(tmp_path / name)}},
                            "interventions[0].phases[0]")
        with pytest.raises(SpecError, match=r"phases\[0\]\.to\.file"):
            phase.bind(game)
    assert not marker.exists()
    phase = build_phase({"type": "memory_reset", "firm": 0, "to": {"file": str(tmp_path / "good.npy")}},
                        "interventions[0].phases[0]")
    assert phase.bind(game).table.shape == (2, game.n_states, game.n_actions)


def test_intervention_figures_show_the_seed_study_values():
    import pandas as pd

    from marketsai.interventions.figures import r_distribution
    rows = [{"population": "main", "intervention": iv, "label": iv, "protocol": "seed",
             "sweep_value": k, "R": 0.9} for iv, k in (("forced_nash", 50.0), ("exploration", 100.0),
                                                      ("reset_firm0", float("nan")))]
    ax = r_distribution(pd.DataFrame(rows)).axes[0]
    stars = [ln for ln in ax.get_lines() if ln.get_label().startswith("reported R")]
    assert len(stars) == 1 and list(stars[0].get_ydata()) == [0.545, 0.682, 0.818]


def test_economy_path_too_long_for_the_os_is_our_error():
    from marketsai.runner import load_experiment
    with pytest.raises(SpecError, match="no such economy file or shipped economy"):
        load_experiment({"kind": "tabular", "economy": "a" * 5000, "sessions": 2}, {})
