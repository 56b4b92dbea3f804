from hwplan.app.dashboard import fmt


def test_units_read_naturally():
    assert fmt.usd(12345.4, "month") == "$12,345 / month"
    assert fmt.usd(0.01234) == "$0.0123"
    assert fmt.kw(3.2) == "3.2 kW" and fmt.kw(0.072) == "72 W"
    assert fmt.rate(1.2e6, "tokens/s") == "1.2 M tokens/s"
    assert fmt.rate(512, "samples/s") == "512 samples/s"
    assert fmt.seconds(0.00074) == "740 µs" and fmt.seconds(0.25) == "250 ms"
    assert fmt.interval(980, 1240, "samples/s") == "980–1.24 k samples/s"
    assert fmt.usd(None) == "–" and fmt.rate(float("nan")) == "–"
