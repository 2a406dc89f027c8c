"""The paper's claims as tests, on the real normalised VGG-19 at reduced sizes.

Sizes are reduced so the file runs in about two minutes on 2 CPU cores: one trial instead
of 100; 96×96 images for the angle task (the smallest size at which k = 15 stripes, 6.4 px
apart, stay resolved at A = 4; see docs/calibration.md) and 64×64 for a 5×5×5 grid instead
of 10×10×10 for the manifold task. Each tolerance is stated next to its claim; the
full-size numbers are on docs/results.md.
"""

import numpy as np
import pytest

from sklearn_texture.experiments import run_angle_task, run_manifold_task


@pytest.fixture(scope="module")
def angle_task():
    return run_angle_task(n_images=(50,), amplitudes=(1.0, 2.5, 4.0), n_trials=1, size=96,
                          random_state=0).summary()


def _score(summary, method, amplitude, key="angle_rmse"):
    (row,) = [r for r in summary if r["method"] == method and r["A"] == amplitude]
    return row[key]


@pytest.mark.parametrize("amplitude", [1.0, 2.5, 4.0])
def test_cnn_recovers_the_angle(angle_task, amplitude):
    """Fig. 5–6: CNN angle RMSE is small for A in {1, 2.5, 4} (here < 0.1 rad ≈ 6°)."""
    assert _score(angle_task, "cnn", amplitude) < 0.1


def test_power_spectrum_fails_at_small_noise(angle_task):
    """Fig. 5–6: at A = 1 the PS peaks do not overlap and the angle is lost (> 0.3 rad),
    while the CNN is at least 5 times more accurate."""
    assert _score(angle_task, "ps", 1.0) > 0.3
    assert _score(angle_task, "cnn", 1.0) * 5 < _score(angle_task, "ps", 1.0)


def test_power_spectrum_works_in_a_window(angle_task):
    """Fig. 6: the PS recovers the angle at intermediate noise (A = 2.5: < 0.1 rad)."""
    assert _score(angle_task, "ps", 2.5) < 0.1


@pytest.mark.parametrize("amplitude", [1.0, 2.5, 4.0])
def test_cnn_embeds_with_lower_stress(angle_task, amplitude):
    """Fig. 7: CNN stress is well below PS stress (here at most half) at every A."""
    assert 2 * _score(angle_task, "cnn", amplitude, "stress") < _score(
        angle_task, "ps", amplitude, "stress")


@pytest.fixture(scope="module")
def manifold_task():
    return run_manifold_task(n_levels=5, size=64, dims=(1, 2, 3, 4, 5, 6, 10),
                             random_state=0)


def test_cnn_stress_below_power_spectrum_at_every_dimension(manifold_task):
    """Fig. 8: the CNN stress is below the PS stress at every D*."""
    stress = {(r["method"], r["D*"]): r["stress"] for r in manifold_task.stress_rows}
    for dim in (1, 2, 3, 4, 5, 6, 10):
        assert stress["cnn", dim] < stress["ps", dim], dim
    # and it falls with D* (Fig. 8: roughly exponentially up to D* ~ 6)
    cnn = [stress["cnn", d] for d in (1, 2, 3, 4, 5, 6)]
    assert cnn[-1] < 0.5 * cnn[0]


def _r2_at(manifold_task, dim, key):
    (row,) = [r for r in manifold_task.r2_rows if r["D*"] == dim]
    return row[key]


def test_linear_model_recovers_k_at_four_dimensions(manifold_task):
    """Table I: R² for k ≥ 0.85 at D* = 4 (paper: 0.901)."""
    assert _r2_at(manifold_task, 4, "R2_k") >= 0.85


@pytest.mark.xfail(strict=True, reason=(
    "Does not reproduce: with our noise field A is not the 4th MDS axis. Measured R² for A "
    "at D* = 4: 0.017 (5³ grid, 64 px) and 0.185 (the paper's 10³ grid, 128 px), paper "
    "0.908; classical-MDS axes 4-6 carry a cos/sin 4θ harmonic of the stripe angle and A is "
    "the strongest correlate first on axis 8 (2 % of the variance); on the 5³ grid the noise "
    "settings and layer weightings probed reach at most 0.60, and those above 0.35 break an "
    "angle-task claim (python -m benchmarks.probe_table1, docs/calibration.md)."))
def test_linear_model_recovers_a_at_four_dimensions(manifold_task):
    """Table I: R² for A ≥ 0.85 at D* = 4 (paper: 0.908)."""
    assert _r2_at(manifold_task, 4, "R2_A") >= 0.85


def test_scale_and_noise_directions_are_nearly_orthogonal(manifold_task):
    """Eq. 14: the angle between β_A and β_k at D* = 6 is near 90° (paper 91.0°; here ±20°)."""
    assert abs(manifold_task.beta_angle - 90.0) < 20.0
    assert np.isfinite(manifold_task.beta_angle)
