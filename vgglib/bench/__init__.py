"""The performance of the reproduction itself (no part of the paper): ``make bench``'s
measurements, rendered on the book's Performance page."""
import pandas as pd

from ...results import ResultSet

TABLES: list = []


def claims(results: ResultSet) -> list:
    """The paper makes no claim about our speed."""
    return []


def frames(results: ResultSet) -> dict[str, pd.DataFrame]:
    """The benchmark is rendered from its own report, not from table records."""
    return {}
