"""Minimum-bias pile-up overlay: Poisson mean, identity at mu = 0, reproducibility."""

import awkward as ak
import numpy as np
import pytest

from hepml.generate.pileup import POOL_FIELDS, MinBiasPool, overlay


@pytest.fixture(scope="module")
def pool():
    return MinBiasPool(40, seed=17, eta_max=2.5)


def _events(n: int, per_event: int = 2) -> ak.Array:
    rng = np.random.default_rng(0)
    size = n * per_event
    fields = {
        "pt": rng.uniform(1, 10, size),
        "eta": rng.uniform(-1, 1, size),
        "phi": rng.uniform(-3, 3, size),
        "m": np.zeros(size),
        "charge": np.zeros(size),
        "pid": np.full(size, 22),
    }
    return ak.unflatten(ak.zip(fields), np.full(n, per_event))


def test_pool_holds_final_state_particles(pool):
    assert len(pool) == 40
    assert tuple(pool.particles.fields) == POOL_FIELDS
    n = ak.to_numpy(ak.num(pool.particles))
    assert n.mean() > 20
    assert ak.all(np.abs(pool.particles.eta) < 2.5)
    assert ak.all(pool.particles.pt > 0)
    assert not ak.any(np.isin(np.abs(ak.to_numpy(ak.flatten(pool.particles.pid))), (12, 14, 16)))
    assert pool.events_per_second > 0


def test_mean_number_of_overlaid_events_is_mu(pool):
    events = _events(4000)
    mu = 3.0
    combined, n_pileup = overlay(events, mu, np.random.default_rng(1), pool)
    assert n_pileup.mean() == pytest.approx(mu, rel=0.05)
    assert n_pileup.var() == pytest.approx(mu, rel=0.1)  # Poisson
    pool_sizes = ak.to_numpy(ak.num(pool.particles))
    added = ak.to_numpy(ak.num(combined)) - 2
    assert added.mean() == pytest.approx(mu * pool_sizes.mean(), rel=0.1)
    # the event's own particles come first, unchanged
    own = combined[ak.local_index(combined) < 2]
    assert ak.all(own.pt == events.pt)


def test_mu_zero_is_identity(pool):
    events = _events(50)
    combined, n_pileup = overlay(events, 0.0, np.random.default_rng(1), pool)
    assert ak.array_equal(combined, events)
    assert np.all(n_pileup == 0)


def test_deterministic_for_a_seed(pool):
    events = _events(100)
    a, na = overlay(events, 5.0, np.random.default_rng(7), pool)
    b, nb = overlay(events, 5.0, np.random.default_rng(7), pool)
    c, _ = overlay(events, 5.0, np.random.default_rng(8), pool)
    np.testing.assert_array_equal(na, nb)
    assert ak.array_equal(a, b)
    assert not ak.array_equal(a, c)


def test_randomisation_keeps_pt_and_abs_eta(pool):
    empty = _events(300, per_event=0)
    plain, n1 = overlay(empty, 2.0, np.random.default_rng(3), pool, randomise=False)
    rotated, n2 = overlay(empty, 2.0, np.random.default_rng(3), pool, randomise=True)
    np.testing.assert_array_equal(n1, n2)
    np.testing.assert_allclose(
        ak.to_numpy(ak.flatten(plain.pt)), ak.to_numpy(ak.flatten(rotated.pt))
    )
    np.testing.assert_allclose(
        np.abs(ak.to_numpy(ak.flatten(plain.eta))), np.abs(ak.to_numpy(ak.flatten(rotated.eta)))
    )
    phi = ak.to_numpy(ak.flatten(rotated.phi))
    assert np.all((phi >= -np.pi) & (phi <= np.pi))


def test_pool_is_reproducible_and_errors_are_clear(pool):
    again = MinBiasPool(40, seed=17, eta_max=2.5)
    assert ak.array_equal(again.particles, pool.particles)
    with pytest.raises(ValueError, match="mu"):
        overlay(_events(2), -1.0, np.random.default_rng(1), pool)
    bad = ak.zip({"pt": [[1.0]], "colour": [[1]]})
    with pytest.raises(ValueError, match="colour"):
        overlay(bad, 1.0, np.random.default_rng(1), pool)
    with pytest.raises(ValueError, match="at least one event"):
        MinBiasPool(0, seed=1)
