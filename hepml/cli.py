"""``hepml SUBCOMMAND [hydra overrides]``: argv -> composed config -> one pipeline function."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import hydra
from hydra.errors import InstantiationException
from omegaconf import DictConfig

from hepml.config import config_dir, register_resolvers, searchpath_override
from hepml.errors import HepmlError, report_error

log = logging.getLogger("hepml")

COMMANDS: dict[str, tuple[str, str]] = {
    "train": ("train", "train a model, test the best checkpoint, write predictions, metrics, plots"),
    "eval": ("eval", "predictions + metrics + plots from a checkpoint (ckpt_path=...)"),
    "plot": ("plot", "remake every plot from a predictions file (predictions=...)"),
    "generate": ("generate", "generate a physics sample with Pythia 8 + FastJet (sample=...)"),
    "export": ("export", "ONNX or TorchScript model with its input transform (ckpt_path=... format=onnx)"),
    "compare": ("", "table + ROC figure over run, eval or multirun directories (positional)"),
    "merge": ("", "concatenate generated shards into one file (positional: OUTPUT SHARD ...)"),
    "inspect": ("", "what a data file holds, and a starter data config (positional: FILE)"),
    "interpret": ("", "what an image classifier learned: mean images, Pearson maps, windows (positional: RUN)"),
}


def _run(command: str) -> Callable[[DictConfig], object]:
    def task(cfg: DictConfig) -> object:
        # heavy imports after parsing
        from hepml.pipelines import evaluate, export, generate, plot, train

        for name in ("lightning", "lightning.pytorch", "lightning.fabric"):  # Hydra prints them
            logging.getLogger(name).handlers.clear()

        fn = {
            "train": train.train,
            "eval": evaluate.evaluate,
            "plot": plot.plot,
            "generate": generate.generate,
            "export": export.export,
        }[command]
        try:
            result = fn(cfg)
            if command == "train":  # a sweeper gets the one number it optimises (optimized_metric)
                from hepml.pipelines.sweep import objective

                return objective(cfg, result)
            return result
        except (HepmlError, FileNotFoundError, ValueError, KeyError, TypeError, RuntimeError, OSError,
                InstantiationException, KeyboardInterrupt) as err:
            # one line on stderr (the traceback with --verbose or HYDRA_FULL_ERROR=1)
            raise SystemExit(report_error(command, err)) from err

    return task


def _help() -> str:
    root = config_dir()
    lines = ["usage: hepml COMMAND [key=value ...] [-m] [--help]", "", "commands:"]
    lines += [f"  {name:<10} {desc}" for name, (_, desc) in COMMANDS.items()]
    lines += ["", "config groups (select with group=name):"]
    for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "hydra"):
        names = sorted(f.stem for f in group.glob("*.yaml"))
        lines.append(f"  {group.name:<11} {', '.join(names)}")
    lines += [
        "",
        "examples:",
        "  hepml train experiment=tau_regression trainer.max_epochs=20 model.hidden=[128,128]",
        "  hepml eval ckpt_path=outputs/.../checkpoints/best.ckpt",
        "  hepml plot predictions=outputs/.../eval/predictions.h5",
        "  hepml train -m experiment=higgs data/features=low,high,all model=mlp,bdt",
        "  hepml compare multirun/higgs/2026-.../ -o comparison    (table + ROC figure)",
        "  hepml generate sample=taus n_events=200000 workers=8 format=root",
        "  hepml generate -m sample=taus seed=1,2,3,4               (shards; hydra/launcher=slurm on SLURM)",
        "  hepml merge data/taus.h5 data/taus_z-h_30000_seed*.h5     (shards -> one file)",
        "  hepml train --config-dir ~/myconfigs data=mine             (your configs; or HEPML_CONFIG_PATH)",
        "  hepml COMMAND --help                                       (Hydra's help: config and overrides)",
    ]
    return "\n".join(lines)


def _command_groups(config_name: str) -> str:
    """``group: options`` lines of the groups the command's config composes (its defaults list,
    and the groups those groups' configs pull in, such as ``data/features`` and ``sample``)."""
    from omegaconf import OmegaConf

    root = config_dir()
    groups: list[str] = []

    def visit(defaults: list, parent: str) -> None:
        for entry in defaults or []:
            if not isinstance(entry, dict):
                continue
            for key in entry:
                name = str(key).removeprefix("optional ").split("@")[0]
                group = name.lstrip("/") if name.startswith("/") or not parent else f"{parent}/{name}"
                if group in groups or group.startswith("hydra") or not (root / group).is_dir():
                    continue
                groups.append(group)
                for option in sorted((root / group).glob("*.yaml")):
                    visit(_defaults(option), group)

    def _defaults(path) -> list:
        return OmegaConf.to_container(OmegaConf.load(path)).get("defaults") or []

    visit(_defaults(root / f"{config_name}.yaml"), "")
    if (root / "hydra" / "launcher").is_dir():  # -m hydra/launcher=slurm
        groups.append("hydra/launcher")
    names = {g: ", ".join(sorted(f.stem for f in (root / g).glob("*.yaml"))) for g in groups}
    return "\n".join(f"{g}: {names[g]}" for g in groups)


def _compare(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="hepml compare", description=COMMANDS["compare"][1])
    parser.add_argument("runs", nargs="+", help="run, eval or multirun directories")
    parser.add_argument("-o", "--output", default="comparison", help="output directory (default: comparison)")
    parser.add_argument("-r", "--reference", default=None, help="label of the ROC ratio reference run")
    ns = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    from hepml.pipelines.compare import compare

    try:
        files = compare(ns.runs, ns.output, ns.reference)
    except (FileNotFoundError, ValueError) as err:
        log.error("%s", err)
        raise SystemExit(1) from err
    md = next(f for f in files if f.suffix == ".md")
    sys.stdout.write(md.read_text())


def _merge(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="hepml merge", description=COMMANDS["merge"][1])
    parser.add_argument("output", help="merged file (.h5/.hdf5 or .root)")
    parser.add_argument("shards", nargs="+", help="files of one sample generated with different seeds")
    ns = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    from hepml.pipelines.merge import merge

    try:
        merge(ns.output, ns.shards)
    except (FileNotFoundError, ValueError) as err:
        log.error("%s", err)
        raise SystemExit(1) from err


def _inspect(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="hepml inspect", description=COMMANDS["inspect"][1])
    parser.add_argument("file", help="HDF5, ROOT, CSV or parquet file")
    parser.add_argument("--tree", default=None, help="ROOT: the tree to describe")
    parser.add_argument("--max-rows", type=int, default=10_000,
                        help="entries read for list lengths and label values (default 10000)")
    parser.add_argument("--format", default=None, help="hdf5, root, csv or parquet (unusual suffixes)")
    parser.add_argument("--all", action="store_true", help="list every column of a wide file")
    parser.add_argument("-o", "--output", default=None,
                        help="also write the starter data config there (e.g. configs/data/mine.yaml)")
    ns = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    from hepml.pipelines.inspect import inspect

    try:
        text = inspect(ns.file, ns.tree, ns.max_rows, ns.format, ns.all)
        if ns.output:
            out = Path(ns.output)
            if out.exists():
                raise ValueError(f"{out} exists; hepml inspect does not overwrite a config, choose another name")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
            log.info("Starter data config written to %s", out)
    except (FileNotFoundError, ValueError, OSError) as err:
        log.error("%s", err)
        raise SystemExit(1) from err


def _interpret(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="hepml interpret", description=COMMANDS["interpret"][1])
    parser.add_argument("run", help="a hepml train run directory of an image classifier (checkpoints/best.ckpt)")
    parser.add_argument("-o", "--output", default=None, help="figure directory (default: RUN/plots)")
    parser.add_argument("--splits", nargs="+", default=["test"], choices=["train", "val", "test"],
                        help="data splits looked at (default: test; val adds statistics)")
    parser.add_argument("--files", nargs="+", default=None,
                        help="other files of the same layout, every event of them (e.g. a mass-window sample)")
    parser.add_argument("--extent", type=float, default=1.25, help="half-width of the images in eta and phi")
    ns = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(message)s")
    from hepml.pipelines.interpret import interpret_run

    try:
        numbers = interpret_run(ns.run, ns.output, splits=ns.splits, extent=ns.extent, files=ns.files)
    except (FileNotFoundError, ValueError) as err:
        log.error("%s", err)
        raise SystemExit(1) from err
    for title, found in numbers["windows"].items():
        sys.stdout.write(f"{title}: {json.dumps(found, default=str)}\n")


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(_help() + "\n")
        return
    command, rest = argv[0], argv[1:]
    if "--verbose" in rest:  # tracebacks behind the one-line error messages
        rest = [a for a in rest if a != "--verbose"]
        os.environ["HEPML_VERBOSE"] = "1"
    if command not in COMMANDS:
        sys.stderr.write(f"hepml: unknown command {command!r}\n\n{_help()}\n")
        raise SystemExit(2)
    if command == "compare":
        _compare(rest)
        return
    if command == "merge":
        _merge(rest)
        return
    if command == "inspect":
        _inspect(rest)
        return
    if command == "interpret":
        _interpret(rest)
        return
    register_resolvers()
    config_name = COMMANDS[command][0]
    from omegaconf import OmegaConf

    OmegaConf.register_new_resolver("hepml_command_groups", lambda: _command_groups(config_name),
                                    replace=True)
    try:
        sys.argv = [f"hepml {command}", *searchpath_override(rest), *rest]  # HEPML_CONFIG_PATH
    except FileNotFoundError as err:
        sys.stderr.write(f"hepml: {err}\n")
        raise SystemExit(2) from err
    app = hydra.main(config_path=str(config_dir()), config_name=config_name, version_base="1.3")(_run(command))
    app()


if __name__ == "__main__":
    main()
