"""The console's pictures: the aging bars and the DSO trend, as geometry."""

from __future__ import annotations

from receivables.web.console.charts import BAR_WIDTH, aging_bars, dso_trend


def test_the_largest_bucket_is_the_widest_bar_and_an_empty_one_has_none() -> None:
    aging = {
        "buckets": {"current": "50.00", "1-30": "0.00", "31-60": "200.00", "61-90": "1.00", "90+": "100.00"}
    }
    bars = {bar.bucket: bar for bar in aging_bars(aging)}
    assert bars["31-60"].width == BAR_WIDTH and bars["90+"].width == BAR_WIDTH // 2
    assert bars["1-30"].width == 0 and bars["61-90"].width == 1  # a little is still seen
    assert not bars["current"].late and bars["90+"].late
    assert [bar.y for bar in aging_bars(aging)] == sorted(bar.y for bar in bars.values())


def test_the_dso_trend_needs_two_days_with_a_dso() -> None:
    day = {"date": "2026-11-01", "kpis": {"dso_standard": "40.0"}}
    assert dso_trend([day]) is None
    assert dso_trend([day, {"date": "2026-11-02", "kpis": {}}]) is None
    trend = dso_trend([day, {"date": "2026-11-02", "kpis": {"dso_standard": "20.0"}}])
    assert trend is not None and trend["points"] == "0.0,10.0 400.0,55.0"
    assert trend["last"] == ("2026-11-02", trend["last"][1]) and str(trend["last"][1]) == "20.0"
