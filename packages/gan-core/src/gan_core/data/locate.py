"""Finding dataset files: explicit folder, GAN_DATA_DIR, user cache, system folders, download.

Tests and offline machines point at a folder; a user with internet gets the
files downloaded once into the cache. ``GAN_NO_DOWNLOAD=1`` forbids the
download (the test suite sets it).
"""

from __future__ import annotations

import http.client
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

from ..components import DataRequest
from ..errors import GanError
from ..safefiles import umask_mode
from .idx import read_idx


def cache_dir(dataset: str) -> Path:
    """Where downloads go, so one download serves every later run (XDG, like other tools)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gan" / "datasets" / dataset


def candidate_dirs(dataset: str, request: DataRequest, layouts: Sequence[str]) -> list[Path]:
    """Every folder to search, most specific first.

    ``--data-dir`` may be the dataset's own folder or a root of dataset
    folders; ``GAN_DATA_DIR`` is always a root (``$GAN_DATA_DIR/mnist``...),
    since MNIST and Fashion-MNIST share file names and one variable serves
    every dataset.
    """
    dirs: list[Path] = []
    if request.data_dir:
        dirs += [request.data_dir, *_subfolders(request.data_dir, dataset, layouts)]
    if os.environ.get("GAN_DATA_DIR"):
        dirs += _subfolders(Path(os.environ["GAN_DATA_DIR"]), dataset, layouts)
    dirs += [cache_dir(dataset), Path("/usr/share/datasets") / dataset]
    return list(dict.fromkeys(dirs))


def _subfolders(root: Path, dataset: str, layouts: Sequence[str]) -> list[Path]:
    return [root / dataset, *(root / layout for layout in layouts)]


def find_file(folder: Path, name: str) -> Path | None:
    """``name.gz`` or ``name`` in ``folder``: mirrors ship gzipped, torchvision keeps both."""
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def find_files(
    dataset: str,
    names: Sequence[str],
    request: DataRequest,
    *,
    layouts: Sequence[str] = (),
    mirrors: Sequence[str] = (),
) -> dict[str, Path]:
    """Paths of all ``names`` (each ``.gz`` or not) from the first folder holding them all.

    A folder must hold every file: mixing a train set from one copy with
    labels from another could pair images with the wrong labels. Only when
    no folder has them all are they downloaded, and only if allowed.
    """
    searched = candidate_dirs(dataset, request, layouts)
    for folder in searched:
        found = {name: find_file(folder, name) for name in names}
        if all(found.values()):
            return found  # type: ignore[return-value]
    why = _no_download_reason(request, mirrors)
    if not why:
        try:
            return download(dataset, names, mirrors)
        except OSError as exc:
            why = f" and downloading them failed ({exc})"
    shown = ", ".join(str(d) for d in searched)
    raise GanError(
        f"the {dataset} files {', '.join(names)} (.gz or not) were not found in {shown}{why}; "
        f"pass --data-dir DIR for a folder holding them, or set GAN_DATA_DIR to a folder holding {dataset}/"
    )


def _no_download_reason(request: DataRequest, mirrors: Sequence[str]) -> str:
    """Why no download is tried, worded to follow the list of searched folders ('' to try)."""
    if os.environ.get("GAN_NO_DOWNLOAD"):
        return " (downloading is off because GAN_NO_DOWNLOAD is set)"
    if not request.allow_download:
        return " (downloading was not allowed)"
    if not mirrors:
        return " (there is no address to download them from)"
    return ""


def download(dataset: str, names: Sequence[str], mirrors: Sequence[str]) -> dict[str, Path]:
    """Fetch ``NAME.gz`` for every name into the cache, each checked as IDX before it is kept."""
    target = cache_dir(dataset)
    target.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    console = Console(stderr=True)
    with Progress(*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn(), console=console) as progress:
        for name in names:
            final = target / f"{name}.gz"
            if not final.is_file():
                _fetch_first(mirrors, f"{name}.gz", final, progress)
            paths[name] = final
    return paths


def _fetch_first(mirrors: Sequence[str], filename: str, final: Path, progress: Progress) -> None:
    """Try each mirror in turn; a partial or bad file never takes ``final``'s place.

    Writing to a temporary name in the same folder and renaming makes an
    interrupted download leave nothing behind that a later search would find.
    """
    errors = []
    for mirror in mirrors:
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{filename}.", suffix=".part")
        try:
            os.fchmod(fd, umask_mode())  # mkstemp's file is private; a cached dataset is an ordinary file
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(mirror + filename, timeout=30) as response:
                task = progress.add_task(filename, total=int(response.headers.get("Content-Length") or 0) or None)
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    progress.advance(task, len(chunk))
            read_idx(Path(tmp), gzipped=True)  # never keep a file that does not parse
            os.replace(tmp, final)
            return
        except GanError:
            errors.append(f"{mirror}{filename} is not a valid gzipped IDX file")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            errors.append(f"{mirror}{filename}: {exc}")
        finally:
            Path(tmp).unlink(missing_ok=True)
    raise OSError("; ".join(errors))

