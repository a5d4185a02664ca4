"""Lab names prefix node names (NAME0, NAME1, …): a name ending in a digit would run into the index."""

import pytest

from clusterkit.errors import ClusterkitError
from clusterkit.lab.net import check_lab_name


@pytest.mark.parametrize("name", ["pc", "demo", "tls", "a", "lab2b"])
def test_good_names(name):
    assert check_lab_name(name) == name


@pytest.mark.parametrize("name", ["bf32", "pc1", "", "Pc", "2pc", "toolongname", "pc-a", None])
def test_bad_names_are_refused_naming_the_field(name):
    with pytest.raises(ClusterkitError) as e:
        check_lab_name(name)
    assert e.value.field == "name"
