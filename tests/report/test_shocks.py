"""One label per shock, in both languages, wherever a shock is named."""

import pytest

from sahel_eval.report.shocks import shock_label


@pytest.mark.parametrize(
    ("row", "kinds", "fr", "en"),
    [
        (
            {"shock_id": "covid19", "kind": "national", "onset": "202003"},
            {"covid19": "pandemic"},
            "Pandémie de COVID-19 (mars 2020)",
            "COVID-19 pandemic (March 2020)",
        ),
        (
            {"shock_id": "strike_2017", "kind": "national", "onset": 201703},
            {"strike_2017": "strike"},
            "Grève des soignants (mars 2017)",
            "Health workers’ strike (March 2017)",
        ),
        (
            {
                "shock_id": "local-Douentza-201909",
                "kind": "local",
                "district": "Douentza",
                "onset": "2019-09",
            },
            None,
            "Violences, Douentza (septembre 2019)",
            "Violence, Douentza (September 2019)",
        ),
    ],
)
def test_shock_label(row, kinds, fr, en):
    assert shock_label(row, "fr", kinds=kinds) == fr
    assert shock_label(row, "en", kinds=kinds) == en
