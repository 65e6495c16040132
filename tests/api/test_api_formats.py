"""The string format checks: remembered per value, each caller getting its own list."""

from kbook.api.formats import byte_len, is_dns1123_label, is_qualified_name, is_valid_label_value


def test_a_remembered_check_hands_out_a_fresh_list() -> None:
    first = is_qualified_name("a/b/c")
    first.append("mutated by the caller")
    again = is_qualified_name("a/b/c")
    assert again == first[:-1] and len(again) == 1 and again is not first
    ok = is_valid_label_value("web")
    ok.append("x")
    assert is_valid_label_value("web") == []


def test_remembered_results_equal_the_computed_ones() -> None:
    for value in ["my-name", "My.Name", "-bad", "a" * 64, "a.b", ""]:
        assert is_dns1123_label(value) == is_dns1123_label.__wrapped__(value)  # type: ignore[attr-defined]
    assert is_dns1123_label("a.b") == ["must not contain dots"]


def test_byte_len_counts_utf8_bytes() -> None:
    assert byte_len("abc") == 3
    assert byte_len("é") == 2
    assert byte_len("\ud800") == 3  # a lone surrogate, encoded with surrogatepass
