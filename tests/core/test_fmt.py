"""The one number formatter: separators, three significant digits, units scaled, never scientific."""

import math
import re

from hypothesis import given
from hypothesis import strategies as st

from hwplan.core import fmt


def test_units_read_naturally():
    assert fmt.usd(12345.4, "month") == "$12,345 / month"
    assert fmt.usd(503758) == "$503,758"
    assert fmt.usd(0) == "$0" and fmt.usd(-0.0) == "$0"  # a zero cost has no cents
    assert fmt.usd(4.987) == "$4.99" and fmt.usd(0.01234) == "$0.0123" and fmt.usd(-20) == "-$20"
    assert fmt.kw(3.2) == "3.2 kW" and fmt.kw(0.072) == "72 W" and fmt.kw(1530) == "1.53 MW"
    assert fmt.watts(5888) == "5.89 kW"
    assert fmt.rate(1.2e6, "tokens/s") == "1,200,000 tokens/s"
    assert fmt.rate(512, "samples/s") == "512 samples/s"
    assert fmt.rate(24187.6, "tokens/s") == "24,200 tokens/s"
    assert fmt.seconds(0.00074) == "740 µs" and fmt.seconds(0.25) == "250 ms" and fmt.seconds(1.5) == "1.5 s"
    assert fmt.seconds(7200) == "2 h" and fmt.seconds(30 * 86400) == "30 days"
    assert fmt.ms(0.0123) == "12.3 ms"
    assert fmt.kwh(15500) == "15.5 MWh" and fmt.kwh(12.34) == "12.3 kWh"
    assert fmt.co2(1234) == "1.23 t" and fmt.co2(12) == "12 kg"
    assert fmt.interval(980, 1240, "samples/s") == "980–1,240 samples/s"
    assert fmt.pct(0.123) == "12%" and fmt.pct(0.05, signed=True) == "+5%"
    assert fmt.count(1024) == "1,024" and fmt.per_unit("tokens/s") == "token"
    assert fmt.number(0) == "0" and fmt.number(10.0) == "10" and fmt.number(0.5) == "0.5"


def test_missing_values_are_a_dash():
    for bad in (None, float("nan"), float("inf"), "fast", True):
        assert fmt.number(bad) == fmt.MISSING
        assert fmt.usd(bad) == fmt.rate(bad, "samples/s") == fmt.kw(bad) == fmt.seconds(bad) == fmt.MISSING
    assert fmt.interval(1, None, "x") == fmt.MISSING


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_never_scientific_and_three_significant_digits(v):
    text = fmt.number(v)
    assert "e" not in text.lower() and "nan" not in text
    back = float(text.replace(",", ""))
    if v != 0 and abs(v) >= 1e-12:
        assert math.isclose(back, v, rel_tol=5.1e-3, abs_tol=0) or abs(v) < 1e-9
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", text), text


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_money_has_separators_and_no_exponent(v):
    text = fmt.usd(v)
    assert text.startswith("$") and "e" not in text
    if v >= 10_000:
        assert "," in text
