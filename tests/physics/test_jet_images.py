"""Jet images: pixel placement, preprocessing invariants and the jet mass from pixels."""

import numpy as np
import pytest

from hepml.physics.jet_images import (
    centre,
    flip,
    jet_mass_from_image,
    make_images,
    pixel_centres,
    pixelise,
    reflect,
    regrid,
    rotate,
)
from hepml.physics.kinematics import delta_phi, invariant_mass, ptetaphim_to_pxpypze


def _two_prong_jets(rng, n_jets=40, pt=275.0):
    """Massless W-like jets: two prongs sharing ``pt``, each a spray of particles, R < 0.8."""
    axis_eta, axis_phi = rng.uniform(-1.5, 1.5, n_jets), rng.uniform(-np.pi, np.pi, n_jets)
    z = rng.uniform(0.25, 0.75, n_jets)
    opening = (
        80.0 / (pt * np.sqrt(z * (1 - z))) * rng.uniform(0.9, 1.1, n_jets)
    )  # m/(pT sqrt(z(1-z)))
    angle = rng.uniform(0, 2 * np.pi, n_jets)
    parts = []
    for share, sign in ((z, 1.0), (1 - z, -1.0)):
        offset = sign * (1 - share) * opening
        n = 12
        eta = (axis_eta + offset * np.cos(angle))[:, None] + rng.normal(0, 0.04, (n_jets, n))
        phi = (axis_phi + offset * np.sin(angle))[:, None] + rng.normal(0, 0.04, (n_jets, n))
        w = rng.dirichlet(np.ones(n), n_jets) * (share * pt)[:, None]
        parts.append((w, eta, phi))
    pt_c = np.concatenate([p[0] for p in parts], axis=1)
    eta_c = np.concatenate([p[1] for p in parts], axis=1)
    phi_c = np.mod(np.concatenate([p[2] for p in parts], axis=1) + np.pi, 2 * np.pi) - np.pi
    counts = np.full(n_jets, pt_c.shape[1])
    return pt_c.ravel(), eta_c.ravel(), phi_c.ravel(), counts, axis_eta, axis_phi


def test_single_particle_lands_in_the_known_pixel():
    image = pixelise([0.03], [-0.17], [42.0], [1], npix=25, extent=1.25)
    assert image.shape == (1, 25, 25) and image.dtype == np.float32
    assert image[0, 12, 10] == pytest.approx(42.0)
    assert image.sum() == pytest.approx(42.0)
    xc, yc = pixel_centres(25, 1.25)
    assert xc[12] == pytest.approx(0.0) and yc[10] == pytest.approx(-0.2)


def test_pixelise_many_jets_at_once_and_drops_outside():
    image = pixelise(
        [0.0, 2.0, -0.55], [0.0, 0.0, 0.55], [1.0, 5.0, 3.0], [2, 1, 0], npix=4, extent=1.0
    )
    assert image.shape == (3, 4, 4)
    assert image[0].sum() == pytest.approx(1.0)  # the particle at x = 2 is outside
    assert image[1, 0, 3] == pytest.approx(3.0)
    assert image[2].sum() == 0.0


def test_rotation_puts_the_second_subjet_straight_below():
    x, y = rotate([0.3, 0.1], [0.4, 0.0], [2], [0.3], [0.4])
    assert x[0] == pytest.approx(0.0, abs=1e-12) and y[0] == pytest.approx(-0.5)
    assert np.hypot(x[1], y[1]) == pytest.approx(0.1)
    same = rotate([0.3], [0.4], [1], [np.nan], [np.nan])  # no second subjet: unchanged
    assert same[0][0] == 0.3 and same[1][0] == 0.4


def test_preprocessing_keeps_the_total_pt():
    pt, eta, phi, counts, axis_eta, axis_phi = _two_prong_jets(np.random.default_rng(1))
    owner = np.repeat(np.arange(counts.size), counts)
    lead = np.array([np.argmax(np.where(owner == j, pt, -1)) for j in range(counts.size)])
    images = make_images(
        pt, eta, phi, counts, eta[lead], phi[lead], eta2=axis_eta, phi2=axis_phi, flip_images=True
    )
    total = np.bincount(owner, weights=pt)
    assert np.allclose(images.sum(axis=(1, 2)), total, rtol=1e-5)
    half = images.shape[1] // 2
    assert np.all(images[:, -half:].sum(axis=(1, 2)) >= images[:, :half].sum(axis=(1, 2)))


def test_reflect_is_an_involution_and_flip_is_idempotent():
    images = np.random.default_rng(2).exponential(1.0, (7, 25, 25))
    assert np.array_equal(reflect(reflect(images)), images)
    flipped = flip(images)
    assert np.array_equal(flip(flipped), flipped)
    assert np.array_equal(flip(reflect(images)), flipped)
    assert np.allclose(flipped.sum(axis=(1, 2)), images.sum(axis=(1, 2)))


def test_regrid_keeps_the_total_and_sums_blocks():
    images = np.random.default_rng(4).exponential(1.0, (3, 25, 25))
    blocks = images.reshape(3, 5, 5, 5, 5).sum(axis=(2, 4))
    assert np.allclose(regrid(images, 5), blocks, rtol=1e-5)
    assert np.allclose(regrid(images, 25), images, rtol=1e-6)
    assert np.allclose(regrid(images, 7).sum(axis=(1, 2)), images.sum(axis=(1, 2)), rtol=1e-5)


def test_mass_from_pixels_matches_the_jet_mass():
    pt, eta, phi, counts, axis_eta, axis_phi = _two_prong_jets(np.random.default_rng(6), 60)
    owner = np.repeat(np.arange(counts.size), counts)
    px, py, pz, e = ptetaphim_to_pxpypze(pt, eta, phi, np.zeros_like(pt))
    sums = [np.bincount(owner, weights=v) for v in (e, px, py, pz)]
    mass = invariant_mass(*sums)
    x, y = centre(eta, phi, counts, axis_eta, axis_phi)
    assert np.allclose(y, delta_phi(phi, np.repeat(axis_phi, counts)))
    image_mass = jet_mass_from_image(pixelise(x, y, pt, counts, 25, 1.25), 1.25)
    relative = np.abs(image_mass / mass - 1)
    # pixels of 0.1 move each particle by at most 0.05 in eta and phi: a few per cent on m
    assert np.median(relative) < 0.02 and relative.max() < 0.08
    # a finer grid converges to the exact mass
    fine = jet_mass_from_image(pixelise(x, y, pt, counts, 250, 1.25), 1.25)
    assert np.abs(fine / mass - 1).max() < 0.01
