"""A small parametric detector response (not a full simulation such as Delphes).

Each stable particle is either a track, a calorimeter deposit or invisible:

* **Tracks** (charged particles): reconstructed with efficiency ``track_efficiency`` when their
  smeared pT is above ``track_pt_min``; relative pT resolution
  ``sigma(pT)/pT = track_res_constant (+) track_res_slope * pT`` (added in quadrature), i.e. 0.5 %
  at low pT and 1.1 % at 100 GeV with the defaults, a typical silicon tracker in a 2-4 T field.
  Direction and mass are kept.
* **ECAL deposits** (photons): ``sigma(E)/E = ecal_stochastic / sqrt(E) (+) ecal_constant``,
  default 10 %/sqrt(E) (+) 1 %.
* **HCAL deposits** (neutral hadrons: neutrons, K0_L, ...): ``sigma(E)/E = hcal_stochastic /
  sqrt(E) (+) hcal_constant``, default 50 %/sqrt(E) (+) 5 %.
  Calorimeter deposits are massless four-vectors along the true direction with the smeared
  energy, kept when their smeared transverse energy exceeds ``calo_pt_min``.
* **Invisible** particles (neutrinos; pass ``invisible=True``) are never kept.

Everything outside ``|eta| < eta_max`` is lost. Charged particles below the track threshold are
lost too (no calorimeter deposit is made for them), and there is no pile-up, no noise and no
granularity: it is a resolution model, adequate for studying how much a regression can learn
from visible decay products, not for detector studies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DetectorResponse"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DetectorResponse:
    """Parameters of the parametric detector response; see the module docstring.

    Parameters
    ----------
    eta_max
        Acceptance ``|eta| < eta_max`` for tracks and calorimeter deposits.
    track_pt_min
        Minimum (smeared) track pT in GeV.
    track_efficiency
        Probability to reconstruct a charged particle above ``track_pt_min``.
    track_res_constant
        Constant term of the relative track pT resolution.
    track_res_slope
        Term proportional to pT of the relative track pT resolution, per GeV.
    ecal_stochastic, ecal_constant
        Stochastic (times sqrt(GeV)) and constant terms of the photon energy resolution.
    hcal_stochastic, hcal_constant
        Stochastic and constant terms of the neutral-hadron energy resolution.
    calo_pt_min
        Minimum (smeared) transverse energy in GeV of a calorimeter deposit.
    """

    eta_max: float = 2.5
    track_pt_min: float = 0.5
    track_efficiency: float = 0.95
    track_res_constant: float = 0.005
    track_res_slope: float = 1.0e-4
    ecal_stochastic: float = 0.10
    ecal_constant: float = 0.01
    hcal_stochastic: float = 0.50
    hcal_constant: float = 0.05
    calo_pt_min: float = 0.5

    def as_dict(self) -> dict[str, float]:
        """The settings as a plain dictionary, e.g. for provenance."""
        return {key: float(value) for key, value in asdict(self).items()}

    def track_resolution(self, pt: ArrayLike) -> FloatArray:
        """Relative track pT resolution ``sigma(pT)/pT`` at true ``pt`` (GeV)."""
        pt = np.asarray(pt, dtype=float)
        return np.hypot(self.track_res_constant, self.track_res_slope * pt)

    def ecal_resolution(self, e: ArrayLike) -> FloatArray:
        """Relative photon energy resolution ``sigma(E)/E`` at true energy ``e`` (GeV)."""
        e = np.maximum(np.asarray(e, dtype=float), 1e-9)
        return np.hypot(self.ecal_stochastic / np.sqrt(e), self.ecal_constant)

    def hcal_resolution(self, e: ArrayLike) -> FloatArray:
        """Relative neutral-hadron energy resolution ``sigma(E)/E`` at true energy ``e`` (GeV)."""
        e = np.maximum(np.asarray(e, dtype=float), 1e-9)
        return np.hypot(self.hcal_stochastic / np.sqrt(e), self.hcal_constant)

    def apply(
        self,
        pt: ArrayLike,
        eta: ArrayLike,
        phi: ArrayLike,
        m: ArrayLike,
        charge: ArrayLike,
        is_photon: ArrayLike,
        rng: np.random.Generator,
        *,
        invisible: ArrayLike | None = None,
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, NDArray[np.bool_]]:
        """Smear stable particles and decide which ones are reconstructed.

        Parameters
        ----------
        pt, eta, phi, m
            True kinematics of the particles, 1D arrays of one length ``N``.
        charge
            Electric charge; non-zero means a track.
        is_photon
            True for photons (ECAL); other neutral particles go to the HCAL.
        rng
            Source of all randomness. Exactly ``2 * N`` numbers are drawn (one normal and one
            uniform per particle, whatever its type), so the result for the same generator state
            is reproducible.
        invisible
            True for particles the detector cannot see (neutrinos); they are never kept.

        Returns
        -------
        tuple
            ``(pt, eta, phi, m, keep)``: reconstructed kinematics for all ``N`` inputs (for
            calorimeter deposits ``m = 0`` and ``pt = E_smeared / cosh(eta)``) and the boolean
            mask of reconstructed particles. Values where ``keep`` is False are meaningless.
        """
        pt = np.asarray(pt, dtype=float)
        eta = np.asarray(eta, dtype=float)
        phi = np.asarray(phi, dtype=float)
        m = np.asarray(m, dtype=float)
        charged = np.asarray(charge) != 0
        photon = np.asarray(is_photon, dtype=bool) & ~charged
        hadron = ~charged & ~photon
        n = pt.shape[0]
        gauss = rng.standard_normal(n)
        uniform = rng.random(n)

        e = np.sqrt((pt * np.cosh(eta)) ** 2 + m**2)
        rel = np.where(charged, self.track_resolution(pt), 0.0)
        rel = np.where(photon, self.ecal_resolution(e), rel)
        rel = np.where(hadron, self.hcal_resolution(e), rel)
        scale = 1.0 + rel * gauss

        pt_out = np.where(charged, pt * scale, e * scale / np.cosh(eta))
        m_out = np.where(charged, m, 0.0)

        keep = np.abs(eta) < self.eta_max
        if invisible is not None:
            keep &= ~np.asarray(invisible, dtype=bool)
        track_ok = (pt_out > self.track_pt_min) & (uniform < self.track_efficiency)
        calo_ok = pt_out > self.calo_pt_min
        keep &= np.where(charged, track_ok, calo_ok)
        return pt_out, eta.copy(), phi.copy(), m_out, keep
