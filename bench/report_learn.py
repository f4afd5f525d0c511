"""Writes the learning section of bench/RESULTS.md from learn-results.json (replacing an older one)."""
import json, sys

r = json.load(open(sys.argv[1]))
path = sys.argv[2]
text = open(path).read()
text = text.split("\n## Learning")[0].rstrip() + "\n"
of, sf = r["ours_fit"], r["sk_fit"]
rows = [
    ("AUC, same data (in-sample)", f"{of['auc']:.5f}", f"{sf['auc']:.5f}", "within 0.002", r["auc_diff"] <= 0.002),
    ("largest coefficient difference", f"{r['max_coef_diff']:.2e}", "-", "close", r["max_coef_diff"] < 1e-3),
    ("fit 1,000,000 × 20, seconds", f"{of['seconds']:.2f} ({of['iterations']} steps: Newton, then chord)", f"{sf['seconds']:.2f} ({sf['iterations']} lbfgs steps)", "no slower", of["seconds"] <= sf["seconds"]),
    ("fit, peak memory of the whole process", f"{r['ours_fit_peak_mib']:.0f} MiB", f"{r['sk_fit_peak_mib']:.0f} MiB", "no more", r["ours_fit_peak_mib"] <= r["sk_fit_peak_mib"]),
    ("scoring in memory", f"{r['ours_score']['rows_per_second'] / 1e6:.1f} M rows/s", f"{r['sk_score']['rows_per_second'] / 1e6:.1f} M rows/s", "≥ 5 M rows/s", r["ours_score"]["rows_per_second"] >= 5e6),
    ("CSV scored end to end (read, encode, score)", f"{r['ours_csv']['rows_per_second'] / 1e6:.2f} M rows/s", "-", "≥ 1 M rows/s", r["ours_csv"]["rows_per_second"] >= 1e6),
]
text += f"""
## Learning: MLOpsLearn beside scikit-learn (`bench/run-learn`)

{r['rows']:,} rows × {r['cols']} standard-normal features, labels from a logistic model (numpy, seed 42);
L2 strength {r['l2']} (scikit-learn C = {1 / r['l2']}, lbfgs, tol 1e-8). Both fit the same binary copy
of the data in a process of their own; peak memory is that process's maximum resident set
(`/usr/bin/time`), data loading included. Fit times are the best of three runs each (all three:
mlops {of.get('seconds_all')}, scikit-learn {sf.get('seconds_all')}). Our driver is `bench/learn`
(release build); the CSV row reads a {r['rows']:,}-row, 21-column file written by numpy.

| what | mlops | scikit-learn | target | met |
| --- | --- | --- | --- | --- |
""" + "\n".join(f"| {a} | {b} | {c} | {d} | {'yes' if e else '**no**'} |" for a, b, c, d, e in rows) + "\n"
open(path, "w").write(text)
