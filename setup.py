"""Packaging hook: the repository's ``configs/`` folder ships inside the wheel as ``hepml/configs``.

Everything else is declared in ``pyproject.toml``. A checkout (or an editable install) reads
``configs/`` where it is; a wheel carries a copy, found by :func:`hepml.config.config_dir`.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPyWithConfigs(build_py):
    """``build_py`` that also copies ``configs/**/*.yaml`` to ``<build>/hepml/configs``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's configs/
        source = ROOT / "configs"
        if not source.is_dir():
            raise FileNotFoundError(f"{source} is missing: the hepml wheel ships its configs")
        target = Path(self.build_lib) / "hepml" / "configs"
        for path in sorted(source.rglob("*.yaml")):
            dest = target / path.relative_to(source)
            self.mkpath(str(dest.parent))
            self.copy_file(str(path), str(dest))


setup(cmdclass={"build_py": BuildPyWithConfigs})
