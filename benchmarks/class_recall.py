"""Why does a class-conditional run have a good FID but almost no recall? Precision and recall per class.

For each class k, 1,000 images from prior component k are compared with the
MNIST test images of class k (k-NN precision and recall, k=3, in the
evaluation classifier's feature space), next to the spread of each set:
the mean distance of a feature vector to its set's mean. A generator whose
component k draws a narrow slice of digit k shows high precision, low
recall and a small generated spread.

    python benchmarks/class_recall.py runs/gm-sup [runs/gm-aux ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from compare import use_shared_data


def class_rows(run: Path, per_class: int = 1000) -> list[dict[str, object]]:
    from gan_core import feature_network, load_run
    from gan_core.evaluation import neighbours
    from gan_core.evaluation.features import extract

    loaded = load_run(run, "cpu")
    test = loaded.load_data("test")
    extractor = feature_network("mnist", "cpu")
    rows = []
    for k in range(loaded.model.prior.num_components or 0):
        torch.manual_seed(k)
        fake_images = loaded.model.generate(per_class, component=k).images
        fake = extract(extractor, ((fake_images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)).features
        real = extract(extractor, test.images[test.labels == k][:per_class]).features
        real_radii = neighbours.nearest_squared_distances(real, 4)[:, 3].sqrt()
        fake_radii = neighbours.nearest_squared_distances(fake, 4)[:, 3].sqrt()
        rows.append({
            "class": k,
            "precision": round(neighbours.precision(real, real_radii, fake), 3),
            "recall": round(neighbours.recall(real, fake, fake_radii), 3),
            "real spread": round(float((real - real.mean(0)).norm(dim=1).mean()), 2),
            "generated spread": round(float((fake - fake.mean(0)).norm(dim=1).mean()), 2),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    use_shared_data()
    for run in args.runs:
        rows = class_rows(run)
        print(f"\n{run}")
        columns = list(rows[0])
        print("".join(f"{c:>18s}" for c in columns))
        for row in rows:
            print("".join(f"{row[c]!s:>18s}" for c in columns))


if __name__ == "__main__":
    main()
