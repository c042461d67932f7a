"""Benchmark the concept suggester on the labelled set: accuracy and speed per method.

    python bench/bench_suggest.py [--labelled tests/data/suggest/labelled.csv] [--json]

Methods: ``lexical`` (word overlap only), ``lexical+facets``, ``wordllama`` (embedding
cosine only) and ``wordllama+facets`` (the default when the ``suggest`` extra is
installed), and ``minilm`` / ``minilm+facets`` when the ``suggest-minilm`` extra is.
For each: top-1, top-3, decoy error rate, day/dark and safe/unsafe
confusions, then the time to suggest 200 questions once the model is loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from harmonise.crosswalk.io import load_schema  # noqa: E402
from harmonise.suggest.embed import installed  # noqa: E402
from harmonise.suggest.evaluate import evaluate, read_labelled  # noqa: E402
from harmonise.suggest.rank import Suggester  # noqa: E402


def _clear_caches() -> None:
    from harmonise.suggest import scales, text

    for fn in (text._words, text.phrase, scales._label_tokens, scales._propose):
        fn.cache_clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labelled", type=Path,
                    default=ROOT / "tests/data/suggest/labelled.csv")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show-wrong", action="store_true")
    args = ap.parse_args()
    schema = load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")
    items = read_labelled(args.labelled)
    configs = [("lexical", False), ("lexical", True)]
    for model in ("wordllama", "minilm"):
        if installed(model):
            configs += [(model, False), (model, True)]
    rows = []
    for method, facets in configs:
        t0 = time.perf_counter()
        suggester = Suggester(schema, method, facets=facets)
        load = time.perf_counter() - t0
        ev = evaluate(items, suggester)
        batch = [items[i % len(items)].question for i in range(200)]
        _clear_caches()  # time cold: no word or recode cached from the evaluation
        t0 = time.perf_counter()
        suggester.suggest(batch)
        secs = time.perf_counter() - t0
        row = {**ev.as_dict(), "load_s": round(load, 3), "suggest_200_s": round(secs, 3)}
        rows.append(row)
        if args.show_wrong:
            for wid, label, got in ev.wrong:
                print(f"  {ev.method}: {wid} label={label} got={got}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{len(items)} labelled questions "
              f"({sum(i.concept == 'none' for i in items)} none, "
              f"{sum(bool(i.decoy) for i in items)} decoys)")
        print(f"{'method':<18} {'top-1':>6} {'top-3':>6} {'decoy err':>9} {'day/dark':>8} "
              f"{'safe/unsafe':>11} {'load s':>7} {'200 q s':>7}")
        for r in rows:
            print(f"{r['method']:<18} {r['top1']:>6.1%} {r['top3']:>6.1%} "
                  f"{r['decoy_error']:>9.1%} {r['day_dark_confusions']:>8} "
                  f"{r['safe_unsafe_confusions']:>11} {r['load_s']:>7.2f} "
                  f"{r['suggest_200_s']:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
