"""Page sizes and cursors: the rules every connection shares."""

from datetime import UTC, datetime

import pytest

from blog_graphql.errors import InvalidInput
from blog_graphql.relay.pagination import build_connection, decode_cursor, encode_cursor, page_size


def test_page_size_defaults_to_20_and_refuses_out_of_range():
    assert page_size(None) == 20
    assert page_size(0) == 0
    assert page_size(100) == 100
    for bad in (101, -1, 10**9):
        with pytest.raises(InvalidInput) as error:
            page_size(bad)
        assert error.value.fields == {"first": "Use a number from 0 to 100."}


def test_a_cursor_round_trips_its_sort_key():
    key = (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), 42)
    assert decode_cursor(encode_cursor(key), (datetime, int)) == key
    assert decode_cursor(None, (int,)) is None


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", encode_cursor((1,)), encode_cursor(("x", 1)), encode_cursor((True, 1)),
     encode_cursor(("2026-01-01T00:00:00", 1)), "W10=", "bnVsbA=="],
)  # fmt: skip
def test_a_malformed_cursor_is_bad_user_input(cursor):
    with pytest.raises(InvalidInput) as error:
        decode_cursor(cursor, (datetime, int))
    assert error.value.fields == {"after": "Malformed cursor."}


async def test_build_connection_reports_more_pages_from_the_extra_row():
    async def count() -> int:
        return 3

    connection = build_connection(
        [1, 2, 3], first=2, after=None, key=lambda n: (n,), node=str, count=count
    )
    assert [edge.node for edge in connection.edges] == ["1", "2"]
    assert connection.page_info.has_next_page is True
    assert connection.page_info.has_previous_page is False
    assert connection.page_info.end_cursor() == encode_cursor((2,))
    assert await connection.total_count() == 3
