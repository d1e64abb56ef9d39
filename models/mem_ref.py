"""Reference for the training-vector memory (rtl/memory): what SDRAM holds and
what the compute side must receive, written from the spec, not from the RTL.

SDRAM holds vectors of ``vec_words`` words back to back; a word is the FP32 bit
pattern of an MNIST pixel as the MLP takes it, float32(x / 255). With
vec_words = 784 a vector is a whole image; shorter vectors (for fast
simulation) are ``vec_words`` pixels evenly spread over the central 20 x 20
window of each image (rows and columns 4..23), so that most words are non-zero
and neighbouring vectors differ. A run (base, n) must deliver vectors base/vec_words ... in
order, each exactly once, m_last on the final word of each; with rd_words
words per compute-side beat, beat k of a vector carries its words
k*rd_words .. k*rd_words + rd_words - 1, the first in the low bits.
"""

import numpy as np

from models.datasets import load_mnist, mnist_float


def mnist_vectors(n_vecs, vec_words, split="train", first=0):
    """(n_vecs, vec_words) uint32 FP32 bit patterns of MNIST pixels."""
    x, _ = load_mnist(split, limit=first + n_vecs)
    px = mnist_float(x[first:first + n_vecs])          # float32 (n, 784) = x / 255
    if len(px) < n_vecs:
        raise ValueError(f"only {len(px)} MNIST {split} images, {n_vecs} asked for")
    if vec_words > px.shape[1]:
        raise ValueError("vec_words must be <= 784")
    if vec_words == px.shape[1]:
        idx = np.arange(vec_words)
    elif vec_words <= 400:
        window = np.array([r * 28 + c for r in range(4, 24) for c in range(4, 24)])
        idx = window[np.linspace(0, len(window) - 1, vec_words).astype(int)]
    else:
        lo = (px.shape[1] - vec_words) // 2
        idx = np.arange(lo, lo + vec_words)
    return np.ascontiguousarray(px[:, idx]).view(np.uint32)


def sdram_image(vectors, base, size=None):
    """Word-addressed SDRAM contents: the vectors at word address ``base``,
    the rest a recognisable filler (0xDEAD0000 | address low bits), so a read
    outside the data set is visible."""
    flat = np.asarray(vectors, dtype=np.uint32).reshape(-1)
    size = size or base + len(flat)
    mem = (np.uint32(0xDEAD0000) | (np.arange(size, dtype=np.uint32) & np.uint32(0xFFFF))).astype(np.uint32)
    mem[base:base + len(flat)] = flat
    return mem


def pack_words(words, rd_words=1, word_bits=32):
    """Beats of ``rd_words`` consecutive words, the first word in the low bits
    (word j of a beat at bits j*word_bits and up), as Python ints."""
    words = [int(w) for w in words]
    if len(words) % rd_words:
        raise ValueError("rd_words must divide the number of words")
    return [sum(w << (word_bits * j) for j, w in enumerate(words[i:i + rd_words]))
            for i in range(0, len(words), rd_words)]


def expected_beats(vectors, first=0, count=None, rd_words=1):
    """Compute-side beats of vectors[first:first+count]: dicts data, last;
    ``rd_words`` words per beat (pack_words), last on a vector's final beat."""
    vecs = np.asarray(vectors)[first:None if count is None else first + count]
    out = []
    for v in vecs:
        beats = pack_words(v.tolist(), rd_words)
        out.extend({"data": w, "last": 0} for w in beats[:-1])
        out.append({"data": beats[-1], "last": 1})
    return out
