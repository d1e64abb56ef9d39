"""The loaders on small slices of the real data sets."""

import numpy as np
import pytest

from models import datasets


def test_mnist_slice():
    x, y = datasets.load_mnist("train", limit=256)
    assert x.shape == (256, 28, 28) and x.dtype == np.uint8
    assert y.shape == (256,) and set(np.unique(y)) <= set(range(10))
    assert x.max() == 255 and x.min() == 0
    f = datasets.mnist_float(x)
    assert f.shape == (256, 784) and f.dtype == np.float32 and 0.0 <= f.min() and f.max() == 1.0
    xt, yt = datasets.load_mnist("test", limit=10)
    assert xt.shape == (10, 28, 28)


def test_cifar_slice():
    # the test split is ordered by class here: take a strided slice
    x, y = datasets.load_cifar10("test", indices=np.arange(0, 10000, 157))
    assert x.shape == (64, 32, 32, 3) and x.dtype == np.uint8
    assert len(np.unique(y)) == 10
    f = datasets.cifar_float(x)
    assert f.shape == (64, 3, 32, 32)
    assert abs(float(f.mean())) < 0.5


def test_missing_data_message(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "datasets_dir", lambda: tmp_path)
    with pytest.raises(datasets.DatasetNotFound, match="make data"):
        datasets.load_mnist()
