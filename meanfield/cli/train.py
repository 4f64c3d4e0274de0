"""`meanfield train`: train an MLP into a resumable run directory.

The run directory holds ``config.json`` (every setting, the data's
fingerprint and the package version), ``state.npz`` (parameters, optimizer
moments, shuffling RNG and history at the last checkpoint or interruption),
and when done ``params.npz``, ``history.npz`` and ``result.json``. Ctrl-C
stops at a consistent state; ``--resume`` continues to the same final
parameters as an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

STATE, PARAMS, HISTORY, RESULT = "state.npz", "params.npz", "history.npz", "result.json"
FILES = ("config.json", STATE, PARAMS, HISTORY, RESULT)
KIND = "meanfield train run"  # the ownership kind of a run directory (meanfield.outdir)
# Settings that may change when a run is resumed.
RESUMABLE = ("epochs",)


def _fingerprint(*arrays) -> str:
    digest = hashlib.sha256()
    for arr in arrays:
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        digest.update(str(arr.shape).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def _check_args(args) -> None:
    from numerics import validate

    validate.integer("--epochs", args.epochs, low=0, expected=">= 0")
    validate.real("--test-size", args.test_size, low=0.0, high=1.0, open_high=True, expected="a fraction in [0, 1) (0: no test set)")
    for name in ("record_every", "checkpoint_every", "batch_size"):
        validate.optional(validate.integer, f"--{name.replace('_', '-')}", getattr(args, name), low=1, expected="a positive integer")
    validate.optional(validate.real, "--lr", args.lr, low=0.0, open_low=True)
    validate.optional(validate.real, "--decay-rate", args.decay_rate, low=0.0, open_low=True)
    validate.optional(validate.real, "--decay-steps", args.decay_steps, low=0.0, open_low=True)
    validate.optional(validate.real, "--beta-init", args.beta_init)
    validate.optional(validate.real, "--beta-std", args.beta_std, low=0.0)
    for name in ("seed", "data_seed", "split_seed"):
        validate.seed(f"--{name.replace('_', '-')}", getattr(args, name))


def check_training_size(arch: str, m: int, epochs: int, record_every: int, checkpoint_every: int) -> None:
    """Refuse, naming ``--arch``/``--epochs``, a run whose arrays or work exceed the limits (before any allocation).

    Memory: parameters, optimizer moments, gradient partial sums (at most 64
    groups) and snapshots, 8 bytes each; activations of all samples; residual
    records; the loss of every epoch. Work: about 6 m P operations per epoch.
    """
    from numerics.mlp.network import parse_arch
    from numerics.validate import check_size

    sizes = parse_arch(arch)
    n_full = sum((a + 2) * b for a, b in zip(sizes[:-1], sizes[1:]))
    snapshots = epochs // checkpoint_every + 2
    records = epochs // record_every + 2
    needed = 8.0 * (n_full * (72 + snapshots) + 3 * m * sum(sizes) + records * m * sizes[-1] + epochs)
    check_size(f"--arch {arch} ({n_full} parameters) with {m} samples and --epochs {epochs}", needed,
               6.0 * epochs * m * n_full)


def _network(args):
    from numerics.mlp.network import Network, parse_arch

    sizes = parse_arch(args.arch)
    output = args.output or ("sigmoid" if sizes[-1] == 1 else "softmax")
    train_beta = None if args.beta == "default" else args.beta == "trained"
    return Network.from_spec(args.arch, hidden=args.act, output=output, train_beta=train_beta,
                             beta_init=args.beta_init, beta_std=args.beta_std)


def _data(args):
    from numerics.mlp import data

    X, y = data.dataset(args.data, seed=args.data_seed)
    if args.test_size > 0:
        return data.split(X, y, args.test_size, args.split_seed)
    return X, None, y, None


def _compare(saved: dict, config: dict) -> None:
    for key in sorted(set(saved["run"]) | set(config["run"])):
        if key in RESUMABLE:
            continue
        if saved["run"].get(key) != config["run"].get(key):
            raise ValueError(f"--resume with a different setting: {key} was {saved['run'].get(key)!r}, now {config['run'].get(key)!r}")
    if saved["data"].get("fingerprint") != config["data"]["fingerprint"]:
        raise ValueError("--resume with different data: the training set's fingerprint does not match the saved run")


def open_run(path, option: str = "--out"):
    """The run directory ``path`` as an :class:`~meanfield.outdir.OutDir` (opened and locked) and a RunDir writing through it."""
    from meanfield.outdir import MANIFEST, ForeignContent, OutDir
    from meanfield.runs import RunDir

    out = OutDir(path, KIND, option=option)
    try:
        existed = out.open()
    except ForeignContent:
        config = Path(path) / "config.json"
        if not (Path(path) / MANIFEST).exists() and config.is_file() and '"meanfield train"' in config.read_text(errors="replace"):
            raise ForeignContent(f"{str(path)!r} looks like a run of a meanfield without ownership manifests; it is left "
                                 f"alone: train it again into a new directory") from None
        raise

    def guard(name):
        out.check_free(name)
        out.own(name)

    return out, RunDir(path, files=FILES, guard=guard), existed


def run(args) -> int:
    from meanfield import __version__
    from meanfield.runs import CONFIG
    from numerics.mlp.train import TrainState

    _check_args(args)
    if args.resume and args.force:
        raise ValueError("--resume and --force exclude each other: continue the run or start it over")
    if args.resume and not Path(args.out).is_dir():
        raise ValueError(f"nothing to resume: {args.out!r} is not a run directory")
    X, X_test, y, y_test = _data(args)
    epochs = args.epochs
    check_training_size(args.arch, X.shape[0] + (0 if X_test is None else X_test.shape[0]), epochs,
                        args.record_every or max(1, epochs // 100), args.checkpoint_every or max(1, epochs // 10))
    out, run_dir, existed = open_run(args.out)
    with out:
        is_run = existed and run_dir.file(CONFIG).exists()
        if args.resume and not is_run:
            raise ValueError(f"nothing to resume: {str(run_dir.path)!r} holds no run ({CONFIG} missing)")
        if is_run and not (args.resume or args.force):
            raise ValueError(f"run directory {str(run_dir.path)!r} already holds a run; use --resume to continue it or --force to replace it")
        saved = run_dir.read_json(CONFIG, keys=("run", "network", "data")) if args.resume else None
        settings = {k: v for k, v in vars(args).items() if k not in ("func", "out", "resume", "force", "json", "command")}
        defaults = {"record_every": max(1, args.epochs // 100), "checkpoint_every": max(1, args.epochs // 10)}
        if saved is not None:  # keep the saved intervals unless given again
            defaults.update({k: saved["run"].get(k) for k in defaults})
        for key, value in defaults.items():
            if settings[key] is None:
                settings[key] = value
        net = _network(args)
        X, Y = net.targets(X, y)
        X_test, Y_test = (None, None) if X_test is None else net.targets(X_test, y_test)
        config = {
            "command": "meanfield train",
            "meanfield_version": __version__,
            "argv": sys.argv[1:],
            "run": settings,
            "network": net.config(),
            "data": {"spec": args.data, "n_train": int(X.shape[0]), "n_test": 0 if X_test is None else int(X_test.shape[0]),
                     "fingerprint": _fingerprint(X, Y, *(() if X_test is None else (X_test, Y_test)))},
        }
        state = None
        if saved is not None:
            _compare(saved, config)
            if run_dir.file(STATE).exists():
                state = TrainState.from_arrays(run_dir.read_npz(STATE))
                if state.epoch > args.epochs:
                    raise ValueError(f"--epochs {args.epochs} is below the {state.epoch} epochs already done; give at least {state.epoch}")
                if len(state.history.get("loss", ())) > state.epoch:  # a finished run's last entry is the final loss,
                    state.history["loss"] = state.history["loss"][: state.epoch]  # computed again as the next epoch's first
            config = dict(saved, run=dict(saved["run"], epochs=args.epochs))
        else:
            if args.force:
                out.remove_own()
        run_dir.write_json(CONFIG, config)
        return _train(args, net, run_dir, config, settings, state, X, Y, X_test, Y_test)


def _train(args, net, run_dir, config, settings, state, X, Y, X_test, Y_test) -> int:
    from meanfield.progress import Progress
    from numerics.mlp.train import StopOnInterrupt, TrainingDiverged, history_arrays, train

    def save(st):
        run_dir.write_npz(STATE, st.arrays())

    bar = Progress(args.epochs, label=f"train {net.arch} {args.act}")
    decay = (None, None) if args.decay_rate in (None, 1.0) else (args.decay_rate, args.decay_steps)
    try:
        with StopOnInterrupt() as stop, bar:
            result = train(net, X, Y, args.epochs, lr=args.lr, decay_rate=decay[0], decay_steps=decay[1],
                           optimizer=args.optimizer, batch_size=args.batch_size, seed=args.seed, X_test=X_test,
                           y_test=Y_test, record=settings["record_every"], checkpoints=settings["checkpoint_every"], resume=state,
                           on_checkpoint=save, progress=lambda e, n, loss: bar.update(e, f"loss {loss:.4g}"), stop=stop)
    except TrainingDiverged as exc:
        run_dir.write_npz(HISTORY, history_arrays(exc.state.history, net))
        print(f"meanfield: error: {exc}; run directory {str(run_dir.path)!r}", file=sys.stderr)
        return 1
    hist = result.history
    run_dir.write_npz(HISTORY, hist)
    if not result.finished:
        print(f"meanfield: interrupted at epoch {result.state.epoch}; continue with --resume (run directory {str(run_dir.path)!r})", file=sys.stderr)
        return 130
    run_dir.write_npz(PARAMS, result.params)
    summary = {
        "run_dir": str(run_dir.path),
        "arch": net.arch,
        "act": args.act,
        "output": net.output,
        "epochs": args.epochs,
        "n_train": config["data"]["n_train"],
        "n_test": config["data"]["n_test"],
        "train_loss": float(hist["loss"][-1]),
        "train_accuracy": float(hist["train_accuracy"][-1]) if "train_accuracy" in hist else None,
        "test_loss": float(hist["test_loss"][-1]) if "test_loss" in hist else None,
        "test_accuracy": float(hist["test_accuracy"][-1]) if "test_accuracy" in hist else None,
        "seconds": result.seconds,
    }
    run_dir.write_json(RESULT, summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        fmt = lambda v: "-" if v is None else f"{v:.6g}"
        print(f"{net.arch} {args.act}/{net.output}, {args.epochs} epochs: train loss {fmt(summary['train_loss'])}, "
              f"train accuracy {fmt(summary['train_accuracy'])}, test loss {fmt(summary['test_loss'])}, "
              f"test accuracy {fmt(summary['test_accuracy'])} ({summary['n_train']}/{summary['n_test']} samples) -> {run_dir.path}")
    return 0


def register(commands) -> None:
    from numerics.kernels.activations import NAMES
    from numerics.mlp.network import OUTPUTS
    from numerics.mlp.train import OPTIMIZERS

    p = commands.top("train", "train a multilayer perceptron (Adam or SGD) into a resumable run directory")
    p.add_argument("--arch", required=True, help="layer widths, e.g. 2-8-2-1")
    p.add_argument("--act", default="esp", metavar="NAME",
                   help=f"hidden activation: {', '.join(NAMES)} or one registered by `meanfield activation add` (default: esp)")
    p.add_argument("--output", choices=OUTPUTS, help="output layer (default: sigmoid for one output unit, else softmax)")
    p.add_argument("--data", default="nonlinear", metavar="linear|nonlinear|digits|PATH",
                   help="built-in set or a .mat/.npz/.csv file or a directory of MNIST IDX files (default: nonlinear)")
    p.add_argument("--data-seed", type=int, default=0, metavar="S", help="seed of a synthetic set (default: 0)")
    p.add_argument("--test-size", type=float, default=0.2, metavar="F",
                   help="test fraction, split as scikit-learn's train_test_split (default: 0.2; 0: no test set)")
    p.add_argument("--split-seed", type=int, default=1, metavar="S", help="random_state of the split (default: 1, the paper's)")
    p.add_argument("--epochs", type=int, required=True, metavar="N")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (default: 0.01)")
    p.add_argument("--decay-rate", type=float, default=0.9, help="rate multiplied per --decay-steps updates, smoothly (default: 0.9; 1: none)")
    p.add_argument("--decay-steps", type=float, default=500.0, help="(default: 500)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    p.add_argument("--batch-size", type=int, metavar="B", help="mini-batch size (default: full batch)")
    p.add_argument("--beta", choices=("default", "trained", "fixed"), default="default",
                   help="inverse temperatures: the paper's default (ESP: trained, ~0; others: 1, fixed), or all trained/fixed")
    p.add_argument("--beta-init", type=float, metavar="B", help="initial inverse temperature of every unit")
    p.add_argument("--beta-std", type=float, metavar="S", help="standard deviation of a random initial inverse temperature")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of initialization and shuffling (default: 0)")
    p.add_argument("--record-every", type=int, metavar="K", help="epochs between recorded metrics (default: epochs/100)")
    p.add_argument("--checkpoint-every", type=int, metavar="K", help="epochs between saved states and snapshots (default: epochs/10)")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory")
    p.add_argument("--resume", action="store_true", help="continue the run in DIR")
    p.add_argument("--force", action="store_true", help="replace the run in DIR")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)
