import numpy as np
import pytest

from impl.data import digits, series, toy


@pytest.mark.cpu
def test_bundled_sets(claim):
    """The packaged datasets load verified and whole: yearly sunspots 1700-2008 (309 values), monthly
    sunspots from 1749 (3,126 values), weekly Mauna Loa CO2 1958-2001 (2,284 weeks, 59 missing),
    digits 1,797 x 64, iris 150 x 4 (50 per class) and wine 178 x 13 (59/71/48).

    Course: Lesson 4, LSTM on time series; Lesson 1 and beyond, sklearn toy sets.
    """
    yearly, monthly, co2 = series.sunspots_yearly(), series.sunspots_monthly(), series.co2_weekly()
    claim.expect("yearly", [int(yearly.t.size), int(yearly.t[0]), int(yearly.t[-1])], "==", [309, 1700, 2008])
    claim.expect("monthly", [int(monthly.t.size), int(monthly.t[0])], "==", [3126, 1749])
    claim.expect("co2_weeks_missing", [int(co2.t.size), int(np.isnan(co2.values).sum())], "==", [2284, 59])
    claim.expect("digits_shape", list(digits.load().X.shape), "==", [1797, 64])
    iris, wine = toy.iris(), toy.wine()
    claim.expect("iris", [list(iris.X.shape), np.bincount(iris.y).tolist()], "==", [[150, 4], [50, 50, 50]])
    claim.expect("wine", [list(wine.X.shape), np.bincount(wine.y).tolist()], "==", [[178, 13], [59, 71, 48]])
