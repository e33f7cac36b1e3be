"""minidl against PyTorch (and Keras, when installed) on the tutorial models.

    PYTHONPATH=src python bench/compare_training.py              # the full comparison
    PYTHONPATH=src python bench/compare_training.py --quick      # a smoke run
    PYTHONPATH=src python bench/compare_training.py --json out.json
    PYTHONPATH=src python bench/compare_training.py --scaling    # writes bench/scaling.png
    PYTHONPATH=src python bench/compare_training.py --models M5,M6 --threads 1 --rounds 5 \
        --no-reference --skip predict,import,memory                # the LSTMs alone

For each model M1..M6 (see tutorial_models.py) every framework trains the same
layers for ``--steps`` steps (``--cnn-steps`` M4, ``--rnn-steps`` M5 and M6) of the same batch size on the same data (real
images, see tutorial_models.py), with the same thread count.  Each framework lives in its own worker process
(as in a learner's program, where PyTorch's OpenMP runtime is not loaded next
to minidl's), and the workers take turns round by round, the order flipping
every round, so a noisy machine hurts them alike.  The tables show seconds per
60,000 samples -- median and best round, and CPU time -- with the ratios
minidl / PyTorch and reference kernels / compiled kernels.  Then: ``predict()``
throughput on 10,000 images (M1, M4), the time of ``python -c "import
minidl"`` against ``import torch``, and the peak memory of a whole M1 and M4
training process.

A ratio measured in one run on one machine is the unit of comparison; the
absolute seconds depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from tutorial_models import MODELS, build_keras, build_minidl, make_data, mlp_spec  # noqa: E402

SAMPLES_PER_EPOCH = 60_000
PREDICT_IMAGES = 10_000


def cores():
    """CPU cores this process may use: the thread count given to every framework."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe_blas():
    """The BLAS and OpenMP libraries minidl's kernels load (needs threadpoolctl), as one line.

    Asked in a subprocess: loading minidl's kernels sets OMP_WAIT_POLICY in the
    environment, which the workers spawned later would inherit (PyTorch with
    passive OpenMP waits runs 2-4x slower).
    """
    code = """
from threadpoolctl import threadpool_info
from minidl import _kernels
_kernels.current
import os
parts = []
for lib in threadpool_info():
    arch = f", {lib['architecture']} kernels" if lib.get("architecture") else ""
    parts.append(f"{os.path.basename(lib['filepath']).split('.so')[0]} ({lib['num_threads']} threads{arch})")
print("loaded by minidl: " + "; ".join(parts))
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return done.stdout.strip() or "BLAS not described (threadpoolctl is not installed)"


def available(module):
    """Whether ``module`` is installed (without importing it into this process)."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


# --- inside a worker: one framework, one model ---------------------------------

class MinidlRunner:
    """minidl's ``fit``, on the compiled kernels or on the NumPy reference twins."""

    def __init__(self, spec, threads, kernels="compiled"):
        import minidl
        from minidl import _kernels

        minidl.set_num_threads(threads)
        _kernels.use(kernels)
        self.spec, self.model = spec, build_minidl(spec)

    def train(self, x, y):
        self.model.fit(x, y, batch_size=self.spec.batch_size, epochs=1, verbose=0)

    def predict(self, x, batch_size):
        self.model.predict(x, batch_size=batch_size, verbose=0)


class TorchRunner:
    """A plain PyTorch loop (torch_models.py) on the same layers.

    Subnormal floats (below 1.2e-38) are flushed to zero, as TensorFlow does by
    default: M6's gradients fade over its 200 steps into subnormals, and the CPU
    handles each of those in microcode -- PyTorch's LSTM backward then took 5.8x as
    long (266 against 46 ms per batch, 1 thread), which measured the CPU's slow path,
    not PyTorch.  M1..M5 have no subnormals: their times do not change.
    """

    def __init__(self, spec, threads):
        import torch

        import torch_models

        torch.set_num_threads(threads)
        torch.set_flush_denormal(True)
        torch.manual_seed(0)
        self.spec, self.torch, self.tm = spec, torch, torch_models
        self.model, self.optimizer = torch_models.build_torch(spec)
        self._tensors = {}

    def _as_torch(self, array):
        """The conversion (NHWC -> NCHW for the CNN) is done once, outside the timing."""
        key = id(array)
        if key not in self._tensors:
            self._tensors[key] = (array, self.tm.to_torch(self.spec, array) if array.ndim > 1
                                  else self.torch.from_numpy(array))
        return self._tensors[key][1]

    def train(self, x, y):
        self.tm.train(self.model, self.optimizer, self._as_torch(x), self._as_torch(y),
                      self.spec.batch_size)

    def predict(self, x, batch_size):
        self.tm.predict(self.model, self._as_torch(x), batch_size)


class KerasRunner:
    def __init__(self, spec, threads):
        self.spec, self.model = spec, build_keras(spec)

    def train(self, x, y):
        self.model.fit(x, y, batch_size=self.spec.batch_size, epochs=1, verbose=0)

    def predict(self, x, batch_size):
        self.model.predict(x, batch_size=batch_size, verbose=0)


def make_runner(framework, spec, threads):
    if framework == "minidl-ref":
        return MinidlRunner(spec, threads, kernels="reference")
    return {"minidl": MinidlRunner, "torch": TorchRunner, "keras": KerasRunner}[framework](
        spec, threads)


def serve(conn, framework, spec, threads, samples):
    """A worker's loop: build, warm up, then time each command it receives.

    Commands: ``("train", n)`` -- one epoch on the first n samples;
    ``("predict", batch_size)`` -- predict 10,000 images; ``None`` -- quit.
    Replies ``(wall seconds, CPU seconds of this process)``.
    """
    try:
        try:
            from threadpoolctl import threadpool_limits
            threadpool_limits(limits=threads)  # BLAS and OpenMP pools: the core count
        except ImportError:
            pass
        runner = make_runner(framework, spec, threads)
        x, y = make_data(spec, samples)
        x_predict = None
        warm = 3 * spec.batch_size
        runner.train(x[:warm], y[:warm])  # build, allocate, trace: not timed
        conn.send("ready")
        while (command := conn.recv()) is not None:
            kind, arg = command
            if kind == "train":
                data = (x[:arg], y[:arg])
                work = runner.train
            else:
                if x_predict is None:
                    x_predict = make_data(spec, PREDICT_IMAGES, seed=1)[0]
                runner.predict(x_predict[: 2 * arg], arg)  # warm up this batch size
                data = (x_predict, arg)
                work = runner.predict
            if kind == "train" and framework == "torch":
                runner._as_torch(data[0]), runner._as_torch(data[1])
            wall, cpu = time.perf_counter(), time.process_time()
            work(*data)
            conn.send((time.perf_counter() - wall, time.process_time() - cpu))
    except Exception as error:  # noqa: BLE001 -- report it to the parent
        conn.send(f"error: {type(error).__name__}: {error}")


class Worker:
    """A framework in its own process (spawned, so nothing is shared or preloaded)."""

    def __init__(self, framework, spec, threads, samples):
        context = multiprocessing.get_context("spawn")
        self.label = framework
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, framework, spec, threads, samples),
                                       daemon=True)
        self.process.start()
        self._reply()  # "ready" once built and warmed up

    def _reply(self):
        reply = self.conn.recv()
        if isinstance(reply, str) and reply.startswith("error"):
            raise RuntimeError(f"{self.label} worker: {reply}")
        return reply

    def run(self, kind, arg):
        self.conn.send((kind, arg))
        return self._reply()

    def close(self):
        self.conn.send(None)
        self.process.join(timeout=10)


PAUSE = 0.3  # seconds between turns; see alternate()


def alternate(workers, command, rounds):
    """``{label: [(wall, cpu) per round]}``; the workers take turns, the order flipping each round.

    Between turns we wait ``PAUSE`` seconds: BLAS and OpenMP worker threads keep
    spinning for a while after their last task (OpenBLAS for about 2**28
    cycles), which would otherwise slow down the next framework's turn.
    """
    times = {w.label: [] for w in workers}
    for round_ in range(rounds):
        for worker in (workers if round_ % 2 == 0 else workers[::-1]):
            time.sleep(PAUSE)
            times[worker.label].append(worker.run(*command))
    return times


def summarize(times, scale):
    """Median and best wall time and median CPU time of each worker, times ``scale``."""
    out = {"median": {}, "best": {}, "cpu": {}}
    for label, rounds in times.items():
        walls = [w for w, _ in rounds]
        out["median"][label] = statistics.median(walls) * scale
        out["best"][label] = min(walls) * scale
        out["cpu"][label] = statistics.median(c for _, c in rounds) * scale
    return out


# --- the measurements ------------------------------------------------------------

def bench_model(spec, frameworks, steps, rounds, threads, reference_steps, predict_batches):
    """Training seconds per 60,000 samples and predict images per second, per framework."""
    samples = steps * spec.batch_size
    workers = [Worker(f, spec, threads, samples) for f in frameworks]
    try:
        fast = [w for w in workers if w.label != "minidl-ref"]
        training = summarize(alternate(fast, ("train", samples), rounds), SAMPLES_PER_EPOCH / samples)
        slow = [w for w in workers if w.label == "minidl-ref"]
        if slow:  # the reference kernels can be slow: fewer steps, fewer rounds
            n = reference_steps * spec.batch_size
            times = alternate(slow, ("train", n), max(1, rounds // 2))
            for key, value in summarize(times, SAMPLES_PER_EPOCH / n).items():
                training[key].update(value)
        predict = {}
        for batch_size in predict_batches:
            times = alternate(fast, ("predict", batch_size), rounds)
            for label, rounds_ in times.items():
                wall = statistics.median(w for w, _ in rounds_)
                predict[f"{label} (batch {batch_size})"] = PREDICT_IMAGES / wall
    finally:
        for worker in workers:
            worker.close()
    return training, predict


def import_time(module, repeat=5):
    """Best wall time of ``python -c "import <module>"``, a whole fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}" if module else "pass"],
                       check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory(framework, model, steps, samples):
    """Peak RSS (MB) of a fresh process training ``model`` (see memory_probe.py)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, str(BENCH / "memory_probe.py"), framework, model,
         "--steps", str(steps), "--samples", str(samples)],
        check=True, env=env, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- printing ----------------------------------------------------------------------

RATIOS = {"minidl/torch": ("minidl", "torch"), "minidl/keras": ("minidl", "keras"),
          "ref/minidl": ("minidl-ref", "minidl")}


def print_training(results, frameworks):
    """One table per statistic: median wall, best wall, median CPU time."""
    cols = [f for f in frameworks if any(f in r["median"] for r in results.values())]
    ratios = {k: v for k, v in RATIOS.items() if v[0] in cols and v[1] in cols}
    titles = {"median": "median wall time", "best": "best round's wall time",
              "cpu": "median CPU time (all threads)"}
    for stat, title in titles.items():
        print(f"\nTraining: seconds per 60,000 samples, {title}")
        print(f"{'model':<5}" + "".join(f"{c:>12}" for c in cols) + "".join(f"{r:>14}" for r in ratios))
        for name, r in results.items():
            r = r[stat]
            line = f"{name:<5}" + "".join(f"{r[c]:>12.2f}" if c in r else f"{'-':>12}" for c in cols)
            for a, b in ratios.values():
                line += f"{r[a] / r[b]:>14.2f}" if a in r and b in r else f"{'-':>14}"
            print(line)


def print_predict(results):
    print("\npredict() on 10,000 images: images per second (median)")
    for name, r in results.items():
        for label, rate in r.items():
            print(f"  {name}  {label:<26} {rate:>12,.0f}")


def print_imports(results):
    print("\nImport time (best of 5, whole `python -c` process)")
    for label, seconds in results.items():
        print(f"  {label:<28} {seconds:6.3f} s")
    if "import torch" in results:
        print(f"  minidl / torch: {results['import minidl'] / results['import torch']:.2f}")


def print_memory(results):
    print("\nPeak RSS of a training process (MB), with 60,000 float32 images in memory")
    for key, r in results.items():
        print(f"  {key:<10} peak {r['peak_mb']:7.1f}   before the framework {r['base_mb']:7.1f}"
              f"   framework + training {r['peak_mb'] - r['base_mb']:7.1f}")
    for model in ("M1", "M4"):
        a, b = results.get(f"minidl {model}"), results.get(f"torch {model}")
        if a and b:
            extra = (a["peak_mb"] - a["base_mb"]) / max(b["peak_mb"] - b["base_mb"], 1e-9)
            print(f"  {model} minidl / torch: peak {a['peak_mb'] / b['peak_mb']:.2f}, "
                  f"framework + training {extra:.2f}")


def print_targets(report):
    """Issue 5's targets, each with the measured value and whether it holds."""
    rows = []
    for name, r in report.get("training", {}).items():
        for stat in ("median", "best"):
            t = r[stat]
            if "torch" in t:
                rows.append((f"{name} minidl/torch training ({stat})", t["minidl"] / t["torch"], "<=",
                             MODELS[name].target))
        if "keras" in r["median"] and MODELS[name].conv:
            rows.append((f"{name} minidl/keras training", r["median"]["minidl"] / r["median"]["keras"], "<=", 1.0))
        if MODELS[name].conv and "minidl-ref" in r["median"]:
            rows.append((f"{name} reference/compiled", r["median"]["minidl-ref"] / r["median"]["minidl"], ">=", 5.0))
    for name, r in report.get("predict", {}).items():
        other = "torch" if name == "M1" else "keras"
        for key, rate in r.items():
            if key.startswith("minidl ") and key.replace("minidl", other, 1) in r:
                rows.append((f"{name} predict minidl/{other} {key[7:]}", rate / r[key.replace("minidl", other, 1)],
                             ">=", 1.0))
    imports = report.get("import", {})
    if "import minidl" in imports:
        rows.append(("import minidl (s)", imports["import minidl"], "<=", 0.25))
        if "import torch" in imports:
            rows.append(("import minidl / import torch", imports["import minidl"] / imports["import torch"],
                         "<=", 0.25))
    memory = report.get("memory", {})
    if "minidl M1" in memory and "torch M1" in memory:
        rows.append(("M1 peak RSS minidl/torch", memory["minidl M1"]["peak_mb"] / memory["torch M1"]["peak_mb"],
                     "<=", 0.5))
    if rows:
        print("\nTargets (issue 5; M5, M6: issue 17)")
        for label, value, op, bound in rows:
            ok = value <= bound if op == "<=" else value >= bound
            print(f"  {label:<44} {value:8.3f}  {op} {bound:<5} {'ok' if ok else 'MISSED'}")


# --- scaling -----------------------------------------------------------------------

def scaling(frameworks, threads, rounds, steps, out_png):
    """Step time of an MLP 784-width-10 (Adam) against batch size and against width."""
    frameworks = [f for f in frameworks if f in ("minidl", "torch", "keras")]

    def measure(width, batch):
        spec = mlp_spec(width, batch)
        workers = [Worker(f, spec, threads, steps * batch) for f in frameworks]
        try:
            times = alternate(workers, ("train", steps * batch), rounds)
        finally:
            for worker in workers:
                worker.close()
        return summarize(times, 1e3 / steps)["best"]  # best round: the least disturbed

    batches = [16, 32, 64, 128, 256, 512]
    widths = [64, 128, 256, 512, 1024, 2048]
    by_batch = {b: measure(128, b) for b in batches}
    by_width = {w: measure(w, 64) for w in widths}
    print(f"\nScaling: milliseconds per training step (best of {rounds} rounds of {steps} steps), "
          "MLP 784-width-10, Adam")
    for title, data in (("width 128, batch", by_batch), ("batch 64, width", by_width)):
        print(f"  {title:>16}" + "".join(f"{f:>10}" for f in frameworks) + "  minidl/torch")
        for value, r in data.items():
            ratio = r["minidl"] / r["torch"] if "torch" in r else float("nan")
            print(f"  {value:>16}" + "".join(f"{r[f]:>10.3f}" for f in frameworks) + f"{ratio:>14.2f}")
    result = {"by_batch": by_batch, "by_width": by_width}
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (matplotlib is not installed: no plot; pip install minidl[plot])")
        return result
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, data, xlabel in ((axes[0], by_batch, "batch size (width 128)"),
                             (axes[1], by_width, "hidden width (batch 64)")):
        xs = list(data)
        for framework in frameworks:
            ax.plot(xs, [data[v][framework] for v in xs], marker="o", label=framework)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("ms per training step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"MLP 784-width-10, Adam: one training step ({threads} threads, best of {rounds})")
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    print(f"  wrote {out_png}")
    return result


# --- main -----------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="M1,M2,M3,M4,M5,M6")
    parser.add_argument("--steps", type=int, default=300, help="training steps per round, dense models")
    parser.add_argument("--cnn-steps", type=int, default=60, help="training steps per round, M4")
    parser.add_argument("--rnn-steps", type=int, default=40, help="training steps per round, M5 and M6")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for every framework (default: all the cores)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few steps, one round")
    parser.add_argument("--no-reference", action="store_true", help="skip minidl's reference kernels")
    parser.add_argument("--skip", default="", help="comma list of: predict,import,memory")
    parser.add_argument("--scaling", action="store_true", help="only the scaling curves and PNG")
    parser.add_argument("--png", default=str(BENCH / "scaling.png"))
    parser.add_argument("--json", help="also save every number to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.cnn_steps, args.rnn_steps, args.rounds = 20, 4, 4, 1
    skip = set(filter(None, args.skip.split(",")))

    threads = args.threads or cores()
    frameworks = ["minidl"] + ([] if args.no_reference else ["minidl-ref"])
    frameworks += [f for f in ("torch", "keras") if available(f)]
    import numpy
    print(f"{platform.machine()}, {threads} threads for every framework; python "
          f"{platform.python_version()}, numpy {numpy.__version__}; frameworks: {', '.join(frameworks)}")
    blas = describe_blas()
    print(blas)
    report = {"threads": threads, "frameworks": frameworks, "argv": sys.argv[1:], "blas": blas}

    if args.scaling:
        report["scaling"] = scaling(frameworks, threads, max(1, args.rounds),
                                    10 if args.quick else 40, args.png)
    else:
        training, predict = {}, {}
        for name in args.models.split(","):
            spec = MODELS[name]
            steps = args.rnn_steps if spec.recurrent else args.cnn_steps if spec.conv else args.steps
            reference_steps = max(2, steps // (6 if spec.conv or spec.recurrent else 3))
            batches = (32, 1000) if name in ("M1", "M4") and "predict" not in skip else ()
            training[name], predict_ = bench_model(spec, frameworks, steps, args.rounds, threads,
                                                   reference_steps, batches)
            if predict_:
                predict[name] = predict_
            print(f"  {name} ({spec.description}): " + ", ".join(
                f"{k} {v:.2f} s" for k, v in training[name]["median"].items()), flush=True)
        print_training(training, frameworks)
        report["training"] = training
        if predict:
            print_predict(predict)
            report["predict"] = predict
        if "import" not in skip:
            imports = {"python (nothing)": import_time(None), "import minidl": import_time("minidl")}
            if "torch" in frameworks:
                imports["import torch"] = import_time("torch")
            print_imports(imports)
            report["import"] = imports
        if "memory" not in skip:
            memory = {}
            for model in ("M1", "M4"):
                steps = 10 if args.quick else (args.cnn_steps if MODELS[model].conv else args.steps)
                for framework in [f for f in ("minidl", "torch") if f in frameworks]:
                    memory[f"{framework} {model}"] = peak_memory(framework, model, steps,
                                                                 SAMPLES_PER_EPOCH)
            print_memory(memory)
            report["memory"] = memory

    print_targets(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"\nsaved {args.json}")
    return report


if __name__ == "__main__":
    main()
