"""Pure physics functions (kinematics, jet observables) on numpy arrays."""
