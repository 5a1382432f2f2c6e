"""zero_go.py searches and sizes: variants carry their own overrides into their rows; sizes parse."""

from __future__ import annotations

import re

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


def test_a_network_size_is_blocks_x_channels() -> None:
    parse = load_benchmark("zero_go").parse_size
    assert parse("4x32") == (4, 32)
    assert parse("6x48") == (6, 48)


@pytest.mark.parametrize("bad", ["4", "4x", "x32", "0x32", "4x0", "4*32", "four x 32"])
def test_a_malformed_network_size_names_itself(bad: str) -> None:
    with pytest.raises(SystemExit, match=re.escape(repr(bad))):
        load_benchmark("zero_go").parse_size(bad)
