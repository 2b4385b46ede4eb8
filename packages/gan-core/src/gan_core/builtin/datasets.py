"""MNIST-style IDX datasets and folders of image files.

numpy, PIL, torch and the file readers are imported when data is loaded, not
when the datasets are registered (``gan --help`` and ``gan plugins`` need neither).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..components import DataRequest, Dataset, ImageData
from ..errors import GanError
from ..options import option
from ..plugins import hookimpl

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class IDXOptions:
    limit: int = option(0, "use only the first N images (0: all); handy for quick runs", min=0)


class IDXDataset(Dataset):
    """28x28 grayscale digits-style data in the IDX files MNIST made standard."""

    Options = IDXOptions
    layouts: ClassVar[tuple[str, ...]] = ()
    mirrors: ClassVar[tuple[str, ...]] = ()
    num_classes: ClassVar[int] = 10

    def load(self, request: DataRequest) -> ImageData:
        from ..data.idx import read_idx
        from ..data.locate import find_files

        prefix = "train" if request.split == "train" else "t10k"
        names = [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]
        files = find_files(self.name, names, request, layouts=self.layouts, mirrors=self.mirrors)
        image_file, label_file = files[names[0]], files[names[1]]
        images, labels = read_idx(image_file), read_idx(label_file)
        self._check_pair(images, labels, image_file, label_file)
        if self.options.limit:
            images, labels = images[: self.options.limit], labels[: self.options.limit]
        return ImageData(images.unsqueeze(1).contiguous(), labels.long(), self.num_classes, str(image_file.parent))

    def _check_pair(self, images: torch.Tensor, labels: torch.Tensor, image_file: Path, label_file: Path) -> None:
        """Refuse files that parse but cannot belong together, before they reach training."""
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            problem = f"{tuple(images.shape)} images, {tuple(labels.shape)} labels"
        elif len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < self.num_classes:
            problem = f"labels outside 0..{self.num_classes - 1}"
        else:
            return
        raise GanError(f"{image_file} and {label_file} do not match ({problem}); replace them with a matching pair")


class MNIST(IDXDataset):
    """MNIST handwritten digits (LeCun et al.): 60,000 train and 10,000 test images."""

    name = "mnist"
    layouts = ("MNIST/raw",)
    mirrors = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")


class FashionMNIST(IDXDataset):
    """Fashion-MNIST (Xiao et al. 2017): Zalando clothing images in MNIST's format."""

    name = "fashion-mnist"
    layouts = ("FashionMNIST/raw", "fashion_mnist")
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif")


@dataclass(frozen=True)
class FolderOptions:
    path: str = option("", "folder of images; class subfolders give labels")
    size: int = option(0, "resize to SIZE x SIZE (0: keep the images' own common size)", min=0)
    channels: int = option(1, "1 for grayscale, 3 for RGB", choices=(1, 3))
    limit: int = option(0, "use only the first N images in sorted order (0: all)", min=0)


class ImageFolder(Dataset):
    """Every image under a folder; one subfolder per class gives labels."""

    name = "folder"
    Options = FolderOptions

    def load(self, request: DataRequest) -> ImageData:
        """Read every image under ``path`` (the split is ignored: a folder has one)."""
        import numpy as np
        import torch

        root = self._root()
        files = image_files(root)
        if not files:
            raise GanError(
                f"{root} holds no images ({', '.join(IMAGE_SUFFIXES)}); point -o dataset.path at a folder of images"
            )
        # Classes come from the whole tree so that ``limit`` never renumbers them.
        labels, num_classes = _labels_from_subfolders(root, files)
        if self.options.limit:
            files = files[: self.options.limit]
            labels = None if labels is None else labels[: self.options.limit]
        arrays = [self._read(path) for path in files]
        _check_same_size(arrays, files)
        images = np.stack(arrays)
        images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
        return ImageData(torch.from_numpy(np.ascontiguousarray(images)), labels, num_classes, str(root))

    def _root(self) -> Path:
        if not self.options.path:
            raise GanError("the folder dataset needs a path: add -o dataset.path=DIR")
        root = Path(self.options.path).expanduser()
        if not root.is_dir():
            raise GanError(f"{root} is not a folder; point -o dataset.path at a folder of images")
        return root

    def _read(self, path: Path) -> np.ndarray:
        """One image as uint8 (H, W) or (H, W, 3), converted and resized as the options say."""
        import numpy as np
        from PIL import Image, UnidentifiedImageError

        o = self.options
        try:
            with Image.open(path) as image:
                image = image.convert("L" if o.channels == 1 else "RGB")
                if o.size:
                    image = image.resize((o.size, o.size), Image.Resampling.BILINEAR)
                return np.asarray(image, dtype=np.uint8)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise GanError(f"{path} is not a readable image ({exc}); remove it from the folder") from exc


def image_files(root: Path) -> list[Path]:
    """Image files under ``root`` in sorted order, so runs see the same data in the same order.

    Hidden files and folders are skipped: they are editor or OS leftovers
    (``.ipynb_checkpoints``, macOS ``._name.png``), not training data.
    """
    return sorted(
        path
        for path in root.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and path.is_file()
    )


def _check_same_size(arrays: list[np.ndarray], files: list[Path]) -> None:
    """Without ``size`` the images must already agree, since a dataset has one shape."""
    first = arrays[0].shape
    for array, path in zip(arrays, files):
        if array.shape != first:
            raise GanError(
                f"images differ in size ({files[0].name} is {first[1]}x{first[0]}, {path.name} is "
                f"{array.shape[1]}x{array.shape[0]}); resize them all with -o dataset.size=N"
            )


def _labels_from_subfolders(root: Path, files: list[Path]) -> tuple[torch.Tensor | None, int | None]:
    """Labels when every image sits in an immediate subfolder of ``root`` (one per class)."""
    import torch

    parents = [f.parent for f in files]
    if any(p.parent != root for p in parents):
        return None, None
    classes = sorted({p.name for p in parents})
    index = {name: i for i, name in enumerate(classes)}
    return torch.tensor([index[p.name] for p in parents], dtype=torch.long), len(classes)


@hookimpl
def register_datasets(register: Callable[[type[Dataset]], None]) -> None:
    register(MNIST)
    register(FashionMNIST)
    register(ImageFolder)
