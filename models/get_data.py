"""`make data`: downloads MNIST and CIFAR-10 from their official sources into
build/data in the formats models/datasets.py reads. Needs internet access."""

import gzip
import io
import pickle
import tarfile
import urllib.request

import numpy as np

from models.paths import BUILD

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
               "x_test": "t10k-images-idx3-ubyte.gz", "y_test": "t10k-labels-idx1-ubyte.gz"}
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"


def _get(url):
    print(f"downloading {url}")
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def _idx(data):
    raw = gzip.decompress(data)
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main():
    out = BUILD / "data"
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "mnist.npz").exists():
        arrays = {k: _idx(_get(MNIST_URL + f)) for k, f in MNIST_FILES.items()}
        np.savez_compressed(out / "mnist.npz", **arrays)
    if not (out / "cifar10.npz").exists():
        tar = tarfile.open(fileobj=io.BytesIO(_get(CIFAR_URL)))
        def batch(name):
            d = pickle.load(tar.extractfile(f"cifar-10-batches-py/{name}"), encoding="bytes")
            return d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.array(d[b"labels"], np.uint8)
        parts = [batch(f"data_batch_{i}") for i in range(1, 6)]
        xt, yt = batch("test_batch")
        np.savez_compressed(out / "cifar10.npz", x_train=np.concatenate([p[0] for p in parts]),
                            y_train=np.concatenate([p[1] for p in parts]), x_test=xt, y_test=yt)
    print(f"data in {out}")


if __name__ == "__main__":
    main()
