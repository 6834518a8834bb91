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


def test_settings_are_grouped_by_concern_and_read_either_way():
    import dataclasses

    from rag.settings import LLMSettings, ReadingSettings

    s = Settings(reader="learned", llm_url="http://127.0.0.1:1/v1", max_tokens=100)
    assert (s.reader, s.reading.reader) == ("learned", "learned")
    assert (s.llm_url, s.llm.url, s.chunking.max_tokens) == ("http://127.0.0.1:1/v1",
                                                               "http://127.0.0.1:1/v1", 100)
    assert Settings(reading=ReadingSettings(reader="learned"),
                    llm=LLMSettings(url="http://127.0.0.1:1/v1"), max_tokens=100) == s
    other = dataclasses.replace(s, reader="heuristic")
    assert other.reader == "heuristic" and other.llm_url == s.llm_url and s.reader == "learned"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.reading = ReadingSettings()  # type: ignore[misc]
    with pytest.raises(TypeError, match="'bogus'"):
        Settings(bogus=1)
    assert "secret" not in repr(Settings(llm_api_key="secret"))
