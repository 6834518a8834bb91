import pytest

from rag import ConfigError, Settings
from rag.settings import check_k, check_mode


@pytest.mark.parametrize("kwargs, fragment", [
    ({"max_tokens": 300}, "max_tokens=300"),
    ({"max_tokens": 8}, "max_tokens=8"),
    ({"overlap_sentences": -1}, "overlap_sentences=-1"),
    ({"rrf_k": 0}, "rrf_k=0"),
    ({"fusion": "sum"}, "fusion='sum': must be 'minmax' or 'rrf'"),
    ({"abstain_threshold": 2.0}, "abstain_threshold=2.0"),
    ({"candidates": 0}, "candidates=0"),
])
def test_invalid_settings_name_value_and_limit(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        Settings(**kwargs)


def test_check_k_and_mode():
    assert check_k(3) == 3
    with pytest.raises(ConfigError, match="k=0: k must be"):
        check_k(0)
    with pytest.raises(ConfigError, match="mode='fuzzy'"):
        check_mode("fuzzy")
