"""AppTest per view: session state preset, no exception, the key numbers shown."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import REPO

TIMEOUT = 60


def view(name: str):
    def script(name):
        from hwplan.app.dashboard.views import catalog, compare, plan, profiles

        {"plan": plan, "compare": compare, "profiles": profiles, "catalog": catalog}[name].render()

    return AppTest.from_function(script, args=(name,), default_timeout=TIMEOUT)


def texts(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.subheader]
    parts += [f"{m.label}={m.value}" for m in at.metric] + [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def test_plan_shows_the_ranking_and_why(app_env):
    at = view("plan")
    at.query_params.update({"workload": "resnet50", "throughput": "20000", "pricing": "cloud"})
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cost (USD / month)"].startswith("$")
    assert float(metrics["Samples/s"].replace(",", "")) >= 20000  # meets the demand, with separators
    assert "Why this one" in at.info[0].value
    assert at.session_state["plan_ranked_table"].shape[0] >= 3
    assert at.session_state["plan_throughput"] == 20000.0


def test_plan_deep_link_restores_every_widget(app_env):
    at = view("plan")
    at.query_params.update({"workload": "bert-large", "mode": "inference", "throughput": "5000", "latency_ms": "50",
                            "budget": "40000", "power_kw": "20", "kinds": "gpu,asic", "pricing": "owned"})
    at.run()
    assert not at.exception
    ss = at.session_state
    assert ss["plan_workload"] == "bert-large" and ss["plan_latency_ms"] == 50.0
    assert ss["plan_budget_usd_month"] == 40000.0 and ss["plan_power_cap_kw"] == 20.0
    assert ss["plan_kinds"] == ["gpu", "asic"] and ss["plan_pricing"] == "owned"
    assert at.query_params["budget"] == ["40000"] or at.query_params["budget"] == "40000"


def test_plan_constraint_change_updates_the_ranking(app_env):
    at = view("plan")
    at.run()
    first = at.session_state["plan_ranked_table"]["setup"].tolist()
    at.number_input(key="plan_throughput").set_value(200000).run()
    assert not at.exception
    assert at.session_state["plan_ranked_table"]["setup"].tolist() != first
    assert at.query_params["throughput"] in ("200000", ["200000"])


def test_plan_infeasible_explains_what_binds(app_env):
    at = view("plan")
    at.query_params.update({"workload": "resnet50", "throughput": "1e9", "budget": "10"})
    at.run()
    assert not at.exception
    assert "No setup meets every constraint" in texts(at)


def test_compare_shows_each_setup(app_env):
    at = view("compare")
    at.query_params.update({"workload": "resnet50", "setups": "nvidia-h100-sxm:1:auto,nvidia-l4:2:int8"})
    at.run()
    assert not at.exception
    shown = texts(at)
    assert "1 × nvidia-h100-sxm" in shown and "2 × nvidia-l4 · int8" in shown
    thr = [m.value for m in at.metric if m.label == "Throughput"]
    assert len(thr) == 2 and all("samples/s" in v for v in thr)


def test_compare_bad_precision_is_an_error_card_not_a_crash(app_env):
    at = view("compare")
    at.query_params.update({"workload": "resnet50", "setups": "nvidia-a100-sxm-80gb:1:fp8,nvidia-l4:1:auto"})
    at.run()
    assert not at.exception
    assert any("fp8" in e.value for e in at.error)


def test_profiles_lists_the_seeded_results(app_env):
    at = view("profiles")
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Results"].replace(",", "")) >= 700
    at.multiselect(key="prof_source").set_value(["published"]).run()
    assert not at.exception and at.dataframe[0].value["source"].eq("published").all()


def test_catalog_overrides_apply_to_the_session(app_env):
    at = view("catalog")
    at.run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] >= 40
    at.number_input[1].set_value(1.2)  # PUE
    at.button(key="FormSubmitter:assumptions_form-Apply for this session").click().run()
    assert not at.exception
    assert at.session_state["assumptions"]["pue"] == 1.2


@pytest.mark.parametrize("query", [{}, {"report": "no-such-report"}])
def test_router_runs_reports_and_unknown_report_ids(app_env, query):
    at = AppTest.from_file(str(REPO / "app" / "dashboard" / "main.py"), default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    if not query:
        assert at.metric and at.metric[0].label.startswith("Cost")  # the default page is Plan


def test_catalog_offers_the_region_and_the_tco_terms(app_env):
    at = view("catalog")
    at.run()
    assert not at.exception
    region = at.selectbox(key="cat_region")
    assert region.value == "us-grid:average" and len(region.options) >= 100
    assert any("kg CO₂/kWh" in o for o in region.options)  # each region shows its name and intensity
    labels = [n.label for n in at.number_input]
    for label in ("Host server per 8-device node (USD)", "Scale-out network per node (USD)",
                  "Facility build per kW (USD)", "Facility life (years)", "Maintenance per year (share of capex)"):
        assert label in labels
    assert next(n for n in at.number_input if n.label.startswith("Carbon")).value is None  # empty: the region's
    region.set_value("gcp:asia-east1")
    next(n for n in at.number_input if n.label.startswith("Maintenance")).set_value(0.1)
    at.button(key="FormSubmitter:assumptions_form-Apply for this session").click().run()
    assert not at.exception and not at.error
    applied = at.session_state["assumptions"]
    assert applied["region"] == "gcp:asia-east1" and applied["maintenance_fraction"] == 0.1
    assert "carbon_kg_per_kwh" not in applied  # left empty: the region's intensity is used


@pytest.mark.parametrize("label, bad", [("Host server per 8-device node (USD)", -5.0), ("PUE", 0.5),
                                        ("Maintenance per year (share of capex)", -0.1)])
def test_catalog_refuses_a_bad_override_and_saves_nothing(app_env, label, bad):
    from hwplan.core.store import Store

    at = view("catalog")
    at.run()
    next(n for n in at.number_input if n.label == label).set_value(bad)
    at.text_input(key="cat_set_name").set_value(f"bad {label}")
    at.button(key="FormSubmitter:assumptions_form-Apply and save as named set").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Not applied, nothing was saved.")
    assert label in errors[0] and repr(bad) in errors[0]  # names the field and the value given
    assert "assumptions" not in at.session_state  # the session keeps the defaults
    assert f"bad {label}" not in Store.open(app_env).list_assumptions()


def test_catalog_refuses_a_saved_set_with_a_non_numeric_value(app_env):
    from hwplan.core.store import Store

    Store.open(app_env).put_assumptions("typo set", "2026-01-01T00:00:00Z", {"facility_usd_per_kw": "lots"})
    at = view("catalog")
    at.run()
    at.selectbox(key="cat_set_pick").set_value("typo set").run()
    next(b for b in at.button if b.label == "Load").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "invalid, not loaded" in errors[0] and "Facility build per kW (USD)" in errors[0]
    assert "assumptions" not in at.session_state
