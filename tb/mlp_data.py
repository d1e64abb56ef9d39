"""Training data for the MLP tests, from the real data sets (no cocotb).

- mnist_samples: MNIST pixels as float32 in [0, 1] and one-hot float32 targets.
- neuron_samples: N pixels of each MNIST image (evenly spread over the centre
  20 x 20) with target 1.0 for digits >= 5, else 0.0.
- red_pixels: the red / not-red pixel set of paper 000 (IV-B): RGB pixels
  drawn from CIFAR-10 training images, inputs r, g, b in [0, 1]; a pixel is
  red when r - (g + b) / 2 >= 0.25 (red well above the average of green and
  blue, the paper's second input). Drawn balanced, half red, half not, with
  no pixel within 0.02 of the boundary so that the label is unambiguous
  after JPEG decoding; 6000 for training, 1000 for test, disjoint images.
"""

import numpy as np

from models.datasets import load_cifar10, load_mnist, mnist_float

RED_MARGIN = 0.25
RED_GAP = 0.02


def mnist_samples(start, count, split="train"):
    x, y = load_mnist(split, limit=start + count)
    return mnist_float(x[start:]), np.eye(10, dtype=np.float32)[y[start:]]


def neuron_samples(n, start, count):
    x, y = load_mnist("train", limit=start + count)
    x, y = x[start:], y[start:]
    centre = x[:, 4:24, 4:24].reshape(len(x), -1)
    idx = np.linspace(0, 399, n).round().astype(int)
    return (centre[:, idx].astype(np.float32) / 255.0), (y >= 5).astype(np.float32)[:, None]


def red_pixels(n_train=6000, n_test=1000, seed=0):
    rng = np.random.default_rng(seed)
    imgs, _ = load_cifar10("train", limit=4000)
    split = {"train": imgs[:3000], "test": imgs[3000:]}
    out = {}
    for name, count in (("train", n_train), ("test", n_test)):
        px = split[name].reshape(-1, 3).astype(np.float32) / 255.0
        score = px[:, 0] - (px[:, 1] + px[:, 2]) / 2
        red = np.flatnonzero(score >= RED_MARGIN + RED_GAP)
        other = np.flatnonzero(score < RED_MARGIN - RED_GAP)
        pick = np.concatenate([rng.choice(red, count // 2, replace=False),
                               rng.choice(other, count - count // 2, replace=False)])
        rng.shuffle(pick)
        x = px[pick]
        y = (x[:, 0] - (x[:, 1] + x[:, 2]) / 2 >= RED_MARGIN).astype(np.float32)[:, None]
        out[name] = (x.astype(np.float32), y)
    return out
