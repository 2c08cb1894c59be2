"""The public real-world documents of ``shared/corpus/`` beside the repository.

They are read in place, never copied into the repository; a test that needs
one skips with a clear message when the folder is absent (see its
README.md for where each document comes from).
"""

import os
from pathlib import Path

import pytest

CORPUS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus").resolve()
CXML = CORPUS / "cxml"
CXML_VERSIONS = ("1.2.050", "1.2.063")
UBL_ORDER_XSD = CORPUS / "ubl-2.5-xsd" / "maindoc" / "UBL-Order-2.5.xsd"
# Odoo's own addons (their UBL/CII test files), from the tree the scripts use
ODOO_ADDONS = Path(os.environ.get("ODOO_SRC", "/opt/odoo-18.0")) / "addons"


def corpus_path(*parts):
    """The corpus file at ``parts``; the test is skipped when it is absent."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"the public corpus is not here ({path}); it lives in shared/corpus "
            "beside the repository"
        )
    return path


def cxml_sample(name):
    return corpus_path("cxml", name).read_bytes()


def cxml_dtd(version, name="cXML.dtd"):
    """The cXML DTD ``name`` of ``version``, parsed by lxml."""
    from lxml import etree

    return etree.DTD(str(corpus_path("cxml", "dtd", version, name)))
