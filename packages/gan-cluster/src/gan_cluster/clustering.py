"""Clustering real images with a ClusterGAN's encoder, and scoring the clusters against labels.

Cluster ids are arbitrary, so accuracy is taken under the best one-to-one
mapping of clusters to labels (the Hungarian algorithm on the contingency
table, scipy's ``linear_sum_assignment``); NMI and ARI (scikit-learn) need no
mapping. ``--kmeans`` clusters E's whole output with k-means instead of
taking the argmax of its cluster logits, as the reference code's evaluation
does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def contingency(clusters: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """counts[c, y]: how many images of label y fell in cluster c."""
    n_clusters, n_labels = int(clusters.max()) + 1, int(labels.max()) + 1
    counts = np.zeros((n_clusters, n_labels), dtype=np.int64)
    np.add.at(counts, (clusters, labels), 1)
    return counts


def hungarian_accuracy(clusters: np.ndarray, labels: np.ndarray) -> float:
    """Share of images whose cluster maps to their label, under the best one-to-one mapping."""
    from scipy.optimize import linear_sum_assignment

    counts = contingency(clusters, labels)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(labels))


@dataclass(frozen=True)
class ClusterScores:
    accuracy: float
    nmi: float
    ari: float

    def as_dict(self) -> dict[str, float]:
        return {"accuracy": self.accuracy, "nmi": self.nmi, "ari": self.ari}


def score_clusters(clusters: np.ndarray, labels: np.ndarray) -> ClusterScores:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return ClusterScores(
        accuracy=hungarian_accuracy(clusters, labels),
        nmi=float(normalized_mutual_info_score(labels, clusters)),
        ari=float(adjusted_rand_score(labels, clusters)),
    )


@torch.no_grad()
def encode_all(encode, images: torch.Tensor, device: torch.device, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """E's (z_n, cluster logits) for uint8 images, a batch at a time."""
    parts = [encode(images[i : i + batch].to(device).float().div(127.5).sub(1.0)) for i in range(0, len(images), batch)]
    return torch.cat([p[0] for p in parts]).cpu(), torch.cat([p[1] for p in parts]).cpu()


def assign(z_n: torch.Tensor, logits: torch.Tensor, kmeans: bool, k: int, seed: int = 0) -> np.ndarray:
    """A cluster per image: argmax of the logits, or k-means on E's whole output (z_n and softmax(logits))."""
    if not kmeans:
        return logits.argmax(1).numpy()
    from sklearn.cluster import KMeans

    features = torch.cat([z_n, logits.softmax(1)], dim=1).double().numpy()
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(features)


@torch.no_grad()
def generated_recovery(encode, generate, n: int, batch: int = 1000) -> float:
    """Share of generated images whose cluster E's argmax recovers (``generate`` is ``TrainedModel.generate``).

    The scores on real images only mean something next to this one: near 1
    here and low on real digits says E tells G's clusters apart by features
    that real images lack, not that G failed to separate its clusters.
    """
    hits = 0
    for start in range(0, n, batch):
        fake = generate(min(batch, n - start))
        _, logits = encode(fake.images)
        hits += int((logits.argmax(1) == fake.labels.to(logits.device)).sum())
    return hits / n
