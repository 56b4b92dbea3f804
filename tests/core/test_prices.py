"""The price catalog: the planning-price rule, staleness, and bad price files refused whole (nothing stored)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwplan.app.cli import main
from hwplan.core import prices as pr
from hwplan.core.errors import ValidationError

HEAD = "provider,instance_type,device,devices_per_instance,region,pricing,usd_per_hour,scope,price_date,source\n"


def _frame(rows: list[str], tmp_path) -> pd.DataFrame:
    p = tmp_path / "p.csv"
    p.write_text(HEAD + "\n".join(rows) + "\n")
    return pr.read_prices(p)


def test_the_planning_price_is_the_median_provider_cheapest_instance_offer(tmp_path):
    df = _frame([
        "a,x8,nvidia-h100-sxm,8,r1,on-demand,80,instance,2026-06-01,s",      # 10 / device-h
        "a,x8,nvidia-h100-sxm,8,r2,on-demand,64,instance,2026-06-01,s",      # 8: provider a's cheapest
        "b,x1,nvidia-h100-sxm,1,r1,on-demand,3,instance,2026-06-01,s",       # 3
        "c,x8,nvidia-h100-sxm,8,r1,on-demand,40,instance,2026-06-01,s",      # 5
        "d,gpu,nvidia-h100-sxm,1,r1,on-demand,0.5,accelerator-only,2026-06-01,s",  # never used (VM billed on top)
        "e,x8,nvidia-h100-sxm,8,r1,spot,8,instance,2026-06-01,s",            # another pricing model
    ], tmp_path)
    got = pr.device_prices(df, today=date(2026, 12, 1))["nvidia-h100-sxm"]
    assert got.usd_per_device_hour == 5.0 and got.provider == "c"   # median of 3, 5, 8
    assert pr.device_prices(df, pricing="spot")["nvidia-h100-sxm"].usd_per_device_hour == 1.0
    # an even count takes the lower middle one
    df2 = df[df["provider"] != "c"]
    assert pr.device_prices(df2)["nvidia-h100-sxm"].usd_per_device_hour == 3.0


def test_old_or_undated_prices_are_stale():
    assert pr.is_stale("2025-01-01", today=date(2026, 12, 1))
    assert not pr.is_stale("2026-06-01", today=date(2026, 12, 1))
    assert pr.is_stale("", today=date(2026, 12, 1))
    assert pr.PRICE_MAX_AGE_DAYS == 365


def test_the_shipped_catalog_gives_the_catalog_its_cloud_prices():
    from hwplan.core.catalog import load_catalog

    cat = load_catalog()
    rule = pr.device_prices()
    assert cat.loc["nvidia-h100-sxm", "cloud_usd_per_hour"] == pytest.approx(rule["nvidia-h100-sxm"].usd_per_device_hour)
    assert cat.loc["nvidia-h100-sxm", "cloud_instance"] == rule["nvidia-h100-sxm"].instance_type
    assert len(pr.load_prices()) > 1000 and pr.load_prices()["source"].str.len().gt(3).all()


BAD_PRICES = st.one_of(st.sampled_from(["-3", "0", "abc", "", "inf", "nan", "1e9", "1,5"]),
                       st.floats(max_value=0, allow_nan=False).map(repr))


@given(bad=BAD_PRICES, line=st.integers(0, 2))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_bad_price_names_its_row_and_column_and_nothing_is_stored(tmp_path, capsys, bad, line):
    sqlite_url = f"sqlite:///{tmp_path / 'store.db'}"
    rows = ["a,x8,nvidia-h100-sxm,8,eu,on-demand,16,instance,2026-11-01,quote"] * 3
    parts = rows[line].split(",")
    parts[6] = f'"{bad}"'
    rows[line] = ",".join(parts)
    f = tmp_path / "quotes.csv"
    f.write_text(HEAD + "\n".join(rows) + "\n")
    with pytest.raises(ValidationError) as err:
        pr.read_prices(f)
    assert f"quotes.csv:{line + 2}: usd_per_hour:" in str(err.value)
    assert main(["prices", "import", str(f), "--name", "mine", "--db", sqlite_url]) == 2
    assert "usd_per_hour" in capsys.readouterr().err
    from hwplan.core.store import Store

    s = Store.open(sqlite_url)
    try:
        assert "mine" not in s.list_assumptions()
    finally:
        s.close()


def test_imported_quotes_become_an_assumption_set_the_planner_names(tmp_path, seeded_db, capsys):
    f = tmp_path / "quotes.csv"
    f.write_text(HEAD + "myco,h100x8,nvidia-h100-sxm,8,eu,on-demand,16,instance,2026-11-01,quote 42\n")
    assert main(["prices", "import", str(f), "--name", "quotes", "--db", seeded_db]) == 0
    capsys.readouterr()
    assert main(["predict", "--workload", "resnet50", "--device", "nvidia-h100-sxm", "--count", "8", "--assumptions",
                 "quotes", "--json", "--db", seeded_db]) == 0
    import json

    e = json.loads(capsys.readouterr().out)
    assert e["usd_per_hour_cloud"] == pytest.approx(16.0) and "override" in e["price_basis"]
    assert main(["predict", "--workload", "resnet50", "--device", "nvidia-h100-sxm", "--assumptions", "nope",
                 "--db", seeded_db]) == 2
    assert "no assumption set named 'nope'" in capsys.readouterr().err


def test_prices_commands_list_and_explain_the_rule(capsys):
    assert main(["prices", "planning"]) == 0
    out = capsys.readouterr().out
    assert "median over providers" in out and "nvidia-h100-sxm" in out
    assert main(["prices", "list", "--device", "google-tpu-v5p", "--pricing", "on-demand"]) == 0
    assert "tpu-v5p" in capsys.readouterr().out
    assert main(["prices", "list", "--device", "no-such-device"]) == 2
