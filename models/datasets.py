"""MNIST and CIFAR-10 loaders.

Looked up in $DATASETS_DIR, then ../shared/datasets, then build/data (filled by
`make data`). Accepted files:
- mnist.npz: x_train (60000,28,28) uint8, y_train, x_test, y_test;
- cifar10_jpeg.npz: JPEG bytes + offsets per split (decoded with Pillow and
  cached as raw arrays under build/cache), or cifar10.npz with raw
  x_train (50000,32,32,3) uint8, y_train, x_test, y_test.
"""

import io

import numpy as np

from models.paths import BUILD, SHARED, datasets_dir

CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
CIFAR_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


class DatasetNotFound(FileNotFoundError):
    pass


def _find(*names):
    d = datasets_dir()
    for name in names:
        if d is not None and (d / name).exists():
            return d / name
    raise DatasetNotFound(
        f"none of {', '.join(names)} found. Looked in $DATASETS_DIR, {SHARED / 'datasets'} and "
        f"{BUILD / 'data'}. Set DATASETS_DIR to a folder holding them, or run `make data` to "
        "download MNIST (yann.lecun.com/exdb/mnist, mirrored by ossci-datasets) and CIFAR-10 "
        "(www.cs.toronto.edu/~kriz/cifar.html) into build/data.")


def load_mnist(split="train", limit=None):
    """Returns (images uint8 (N,28,28), labels uint8 (N,))."""
    with np.load(_find("mnist.npz")) as f:
        x, y = f[f"x_{split}"], f[f"y_{split}"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x, y


def mnist_float(x):
    """uint8 images -> float32 (N, 784) in [0, 1], as the MLP takes them."""
    return x.reshape(len(x), -1).astype(np.float32) / 255.0


def _decode_jpegs(blob, offsets, idx):
    from PIL import Image
    out = np.empty((len(idx), 32, 32, 3), dtype=np.uint8)
    for k, i in enumerate(idx):
        out[k] = np.asarray(Image.open(io.BytesIO(blob[offsets[i]:offsets[i + 1]].tobytes())).convert("RGB"))
    return out


def load_cifar10(split="train", limit=None, indices=None):
    """Returns (images uint8 (N,32,32,3), labels uint8 (N,)): the whole split,
    its first ``limit`` images, or the images at ``indices``. The whole split
    is decoded once and cached under build/cache; a slice is decoded alone."""
    try:
        path = _find("cifar10.npz")
        with np.load(path) as f:
            x, y = f[f"x_{split}"], f[f"y_{split}"]
        idx = _select(len(y), limit, indices)
        return x[idx], y[idx]
    except DatasetNotFound:
        path = _find("cifar10_jpeg.npz")
    cache = BUILD / "cache" / f"cifar10_{split}_{path.stat().st_size}.npy"
    with np.load(path) as f:
        y = f[f"y_{split}"]
        idx = _select(len(y), limit, indices)
        if cache.exists():
            return np.asarray(np.load(cache, mmap_mode="r")[idx]), y[idx]
        blob, offsets = f[f"jpeg_{split}"], f[f"offsets_{split}"]
        if len(idx) < len(y):
            return _decode_jpegs(blob, offsets, idx), y[idx]
        x = _decode_jpegs(blob, offsets, range(len(y)))
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".tmp.npy")
    np.save(tmp, x)
    tmp.rename(cache)
    return x[idx], y[idx]


def _select(n, limit, indices):
    if indices is not None:
        return np.asarray(indices)
    return np.arange(n if limit is None else min(limit, n))


def cifar_float(x):
    """uint8 NHWC -> float32 NCHW normalized per channel."""
    x = x.astype(np.float32) / 255.0
    x = (x - CIFAR_MEAN) / CIFAR_STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
