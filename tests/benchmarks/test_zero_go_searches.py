"""zero_go.py searches: each variant carries its own config overrides into its row's label."""

from __future__ import annotations

import pytest

from tests.benchmarks import load_benchmark


def test_a_variant_is_kind_simulations_and_its_own_overrides() -> None:
    parse = load_benchmark("zero_go").parse_variant
    assert parse("gumbel:1024") == (
        "gumbel 1024",
        ["search.kind=gumbel", "search.simulations=1024"],
    )
    label, overrides = parse("puct:512:search.symmetries=8,search.prior_mix=0.1")
    assert label == "puct 512 search.symmetries=8 search.prior_mix=0.1"
    assert overrides == [
        "search.kind=puct",
        "search.simulations=512",
        "search.symmetries=8",
        "search.prior_mix=0.1",
    ]
    assert parse("policy") == ("policy", [])  # the network alone


@pytest.mark.parametrize("bad", ["gumbel", "gumbel:many", "gumbel:64:symmetries", "policy:64"])
def test_a_malformed_variant_names_itself(bad: str) -> None:
    with pytest.raises(SystemExit, match=repr(bad)):
        load_benchmark("zero_go").parse_variant(bad)
