"""TPE and evolution propose the space's centre first (start_at_centre), then search."""

import pytest

from nas.searchers import make_searcher
from tests.searchers.conftest import RICH, observe, run


@pytest.mark.parametrize("name", ["tpe", "evolution"])
def test_the_first_proposal_is_the_centre_then_the_search_goes_on(name: str) -> None:
    searcher = make_searcher(name, RICH, 3)
    asked = run(searcher, 8)
    assert asked[0] == RICH.centre()
    assert RICH.centre() not in asked[1:] and len({c.key() for c in asked}) == 8


@pytest.mark.parametrize("name", ["tpe", "evolution"])
def test_start_at_centre_can_be_switched_off(name: str) -> None:
    firsts = {make_searcher(name, RICH, s, start_at_centre=False).ask() for s in range(3)}
    assert RICH.centre() not in firsts and len(firsts) == 3


@pytest.mark.parametrize("name", ["tpe", "evolution"])
def test_a_resumed_searcher_does_not_propose_the_centre_again(name: str) -> None:
    searcher = make_searcher(name, RICH, 3)
    first = searcher.ask()
    searcher.tell(first, observe(first))
    resumed = make_searcher(name, RICH, 3)
    resumed.load_state(searcher.state())
    assert RICH.centre() not in run(resumed, 5)


@pytest.mark.parametrize("name", ["tpe", "evolution"])
def test_a_bad_start_at_centre_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="start_at_centre must be true or false"):
        make_searcher(name, RICH, 0, start_at_centre="yes")
