"""Economy files: validation with field paths, defaults, round trips."""

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import marketsai as mai
from marketsai.errors import SpecError
from marketsai.spec import EconomySpec

BASE = yaml.safe_load(open("economies/bertrand_duopoly.yaml"))
SHIPPED = ["bertrand_duopoly", "bertrand_oligopoly", "cournot_duopoly", "monopolist",
           "bertrand_duopoly_continuous"]


@pytest.mark.parametrize("name", SHIPPED)
def test_round_trip(name):
    econ = mai.load_economy(f"economies/{name}.yaml")
    again = mai.Economy.from_dict(econ.to_dict())
    assert again == econ
    assert again.to_dict() == econ.to_dict()
    assert EconomySpec.from_dict(econ.to_dict()) == econ.spec


def _err(data):
    with pytest.raises(SpecError) as info:
        mai.Economy.from_dict(data)
    return info.value


def test_bad_value_names_path_value_and_allowed():
    data = copy.deepcopy(BASE)
    data["markets"][0]["params"]["mu"] = -1
    e = _err(data)
    assert e.path == "markets[0].params.mu" and e.value == -1
    assert "markets[0].params.mu = -1" in str(e) and "> 0" in str(e)


def test_unknown_market_type_suggests_nearest():
    data = copy.deepcopy(BASE)
    data["markets"][0]["type"] = "bertand_logit"
    e = _err(data)
    assert e.path == "markets[0].type"
    assert "did you mean 'bertrand_logit'" in str(e) and "cournot_linear" in str(e)


def test_unknown_key_is_an_error_with_suggestion():
    data = copy.deepcopy(BASE)
    data["markets"][0]["params"]["muu"] = 0.3
    e = _err(data)
    assert e.path == "markets[0].params.muu" and "did you mean 'mu'" in str(e)


def test_unknown_participant_and_unused_agent_param():
    data = copy.deepcopy(BASE)
    data["markets"][0]["participants"] = ["firm_0", "frim_1"]
    assert _err(data).path == "markets[0].participants[1]"
    data = copy.deepcopy(BASE)
    data["agents"][0]["params"]["colour"] = "red"
    e = _err(data)
    assert e.path == "agents[0].params.colour" and "cost" in str(e) and "did you mean" not in str(e)
    data = copy.deepcopy(BASE)
    data["agents"][0]["params"]["cots"] = 1.0  # a typo of a parameter the agent has
    assert "did you mean 'cost'?" in str(_err(data))


def test_bad_per_participant_value_points_at_the_agent():
    data = copy.deepcopy(BASE)
    data["agents"][0]["params"]["cost"] = "cheap"
    assert _err(data).path == "agents[0].params.cost"


def test_load_names_the_file(tmp_path):
    bad = copy.deepcopy(BASE)
    bad["discount"] = 1.5
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(bad))
    with pytest.raises(SpecError, match=r"bad\.yaml: discount = 1\.5"):
        mai.load_economy(f)
    f.write_text("agents: [\n")
    with pytest.raises(SpecError, match="invalid YAML at line"):
        mai.load_economy(f)


def test_monopolist_without_bounds_explains_why():
    data = yaml.safe_load(open("economies/monopolist.yaml"))
    data["agents"][0]["action"] = {"kind": "grid", "points": 5}
    e = _err(data)
    assert e.path == "agents[0].action.low" and "coincide" in str(e)


def test_defaults_are_visible_in_the_resolved_dict():
    d = mai.Economy.from_dict({"name": "x", "agents": [{"name": "f", "count": 2}],
                               "markets": [{"type": "bertrand_logit", "participants": ["f_0", "f_1"]}]}).to_dict()
    assert d["discount"] == 0.95 and d["markets"][0]["params"] == {"mu": 0.25, "outside_quality": 0.0}
    assert d["agents"][0]["action"] == {"kind": "grid", "points": 15, "xi": 0.1, "low": None, "high": None,
                                        "values": None}
    assert d["agents"][0]["group"] == "firm"
    # an entry stays one entry with its count, so its agents still step as one array
    assert len(d["agents"]) == 1 and (d["agents"][0]["name"], d["agents"][0]["count"]) == ("f", 2)
    econ = mai.Economy.from_dict(d)
    assert len(econ.entries) == 1 and econ.agents == ("f_0", "f_1")


# --- property-based: random corruptions of a valid file only ever raise SpecError ----
_junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True),
                  st.text(max_size=5), st.lists(st.integers(), max_size=3),
                  st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _set(data, path, value, op):
    if not path:
        return value if op == "replace" else data
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if op == "replace":
        parent[path[-1]] = value
    elif op == "delete":
        del parent[path[-1]]
    elif op == "add" and isinstance(parent[path[-1]], dict):
        parent[path[-1]]["zz_unknown"] = value
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_invalid_files_only_raise_spec_error_with_a_path(data):
    base = yaml.safe_load(open(f"economies/{data.draw(st.sampled_from(SHIPPED))}.yaml"))
    corrupted = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(corrupted))
        path = data.draw(st.sampled_from(paths))
        op = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if op == "delete" and not path:
            continue
        corrupted = _set(corrupted, path, data.draw(_junk), op)
    try:
        mai.Economy.from_dict(corrupted)
    except SpecError as e:
        assert str(e)
        if corrupted is not None and isinstance(corrupted, dict):
            assert e.path or "<root>" in str(e)
            assert ":" in str(e)
