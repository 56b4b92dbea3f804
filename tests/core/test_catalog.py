"""The shipped catalog: every required id, sourced, valid; a broken catalog reports every bad cell."""

import json

import pandas as pd
import pytest

from hwplan.app.cli import main
from hwplan.core import paths
from hwplan.core.catalog import load_catalog, match_device, validate_catalog
from hwplan.core.errors import ValidationError

REQUIRED_IDS = """nvidia-h200-sxm nvidia-h100-sxm nvidia-h100-pcie nvidia-h100-nvl nvidia-a100-sxm-80gb
nvidia-a100-sxm-40gb nvidia-a100-pcie-80gb nvidia-a40 nvidia-a30 nvidia-a10 nvidia-a2 nvidia-l40s nvidia-l40 nvidia-l4
nvidia-t4 nvidia-v100-sxm2-32gb nvidia-b200 nvidia-gh200 amd-mi300x amd-mi325x amd-mi250x amd-mi355x google-tpu-v4
google-tpu-v5e google-tpu-v5p google-tpu-v6e intel-gaudi2 intel-gaudi3 aws-inferentia2 aws-trainium1 aws-trainium2
qualcomm-cloud-ai100-pro groq-lpu amd-alveo-u250 amd-alveo-u55c amd-versal-vck5000 amd-alveo-v70 intel-xeon-8480
intel-xeon-8592 intel-xeon-6980p amd-epyc-9654""".split()


def test_catalog_list_json_has_every_required_id_with_source_and_kind(capsys):
    assert main(["catalog", "list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    missing = [i for i in REQUIRED_IDS if i not in rows]
    assert missing == []
    assert {rows[i]["kind"] for i in REQUIRED_IDS} == {"cpu", "gpu", "tpu", "fpga", "asic"}
    assert all(rows[i]["source"] for i in REQUIRED_IDS)


def test_catalog_show_and_unknown_id(capsys):
    assert main(["catalog", "show", "nvidia-h100-sxm", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["mem_gb"] == 80 and row["kind"] == "gpu"
    assert main(["catalog", "show", "h100"]) == 2
    err = capsys.readouterr().err
    assert "device 'h100' is not known; did you mean" in err and "'nvidia-h100-" in err


def test_broken_catalog_reports_every_bad_cell(tmp_path):
    df = pd.read_csv(paths.CATALOG_CSV, dtype=str, keep_default_na=False)
    df.loc[0, "mem_gb"] = "lots"
    df.loc[1, "kind"] = "quantum"
    df.loc[2, "source"] = ""
    df.loc[3, "id"] = df.loc[4, "id"]
    df.loc[5, "board_power_w"] = "-3"
    _, problems = validate_catalog(df)
    where = {(p.row, p.column) for p in problems}
    assert {(2, "mem_gb"), (3, "kind"), (4, "source"), (6, "id"), (7, "board_power_w")} <= where
    bad = tmp_path / "catalog.csv"
    df.to_csv(bad, index=False)
    with pytest.raises(ValidationError) as err:
        load_catalog(bad)
    assert len(err.value.problems) >= 5


def test_raw_names_map_to_ids():
    cat = load_catalog()
    assert match_device("NVIDIA H100-SXM-80GB", cat) == "nvidia-h100-sxm"
    assert match_device("Tesla  T4", cat) == "nvidia-t4"
    assert match_device("Some Future Chip", cat) is None


def test_typos_suggest_the_right_id():
    from hwplan.core.errors import closest

    ids = list(load_catalog().index)
    assert closest("nvidia-h1OO", ids)[0].startswith("nvidia-h100")
    assert closest("amd-mi300", ids)[0] == "amd-mi300x"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_an_id_with_one_character_dropped_is_suggested(data):
    from hwplan.core.errors import closest

    ids = list(load_catalog().index)
    target = data.draw(st.sampled_from(ids))
    i = data.draw(st.integers(0, len(target) - 1))
    typo = target[:i] + target[i + 1:]
    assert target in closest(typo, ids)


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_a_devices_model_part_or_its_name_as_written_is_suggested(data):
    """`l4` -> nvidia-l4, `H100 SXM` -> nvidia-h100-sxm, `NVIDIA L4` -> nvidia-l4: the vendor left out, any case,
    spaces for dashes."""
    from hwplan.core.errors import closest

    ids = list(load_catalog().index)
    target = data.draw(st.sampled_from(ids))
    model = target.partition("-")[2]
    written = data.draw(st.sampled_from([model, model.upper(), model.replace("-", " "), target.replace("-", " ").upper()]))
    assert target in closest(written, ids)
    if written.lower().replace(" ", "-") == target:
        assert closest(written, ids)[0] == target


def test_a_small_set_of_known_values_is_listed_whole():
    from hwplan.core.errors import UnknownIdError
    from hwplan.core.vocab import DEVICE_KINDS

    err = UnknownIdError("device kind", "bogus", DEVICE_KINDS)
    assert str(err) == f"device kind 'bogus' is not known (known: {', '.join(DEVICE_KINDS)})"
    many = UnknownIdError("device", "bogus", list(load_catalog().index))
    assert "known:" not in str(many)  # the catalog is too long to list: `hwplan catalog list` is
