"""Event generation: Pythia 8 set-up, a parametric detector response, jet clustering, samples."""
