"""The composition + dipeptide features of the floors (baselines.md) that the results pages compute."""

import numpy as np
from floors import STANDARD_RESIDUES, composition_features


def test_composition_and_dipeptide_fractions():
    features = composition_features(["ACA", "WXW", ""])
    assert features.shape == (3, 420)
    a, c, w = (STANDARD_RESIDUES.index(letter) for letter in "ACW")
    np.testing.assert_allclose(features[0, [a, c]], [2 / 3, 1 / 3])
    np.testing.assert_allclose(features[0, 20 + a * 20 + c], 0.5)  # AC and CA, one each
    np.testing.assert_allclose(features[0, 20 + c * 20 + a], 0.5)
    # X is skipped and breaks the pairs around it: W alone, no dipeptide
    assert features[1, w] == 1.0 and features[1, 20:].sum() == 0
    assert not features[2].any()
    np.testing.assert_allclose(features[:2, :20].sum(1), 1.0)
