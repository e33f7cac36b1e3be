"""``keras.layers.experimental``: where TensorFlow 2.3-2.5 kept the preprocessing layers
and ``EinsumDense`` before they became ``keras.layers.*``.  Tutorials of that time write

    from tensorflow.keras.layers.experimental import preprocessing
    normalizer = preprocessing.Normalization()

and run here unchanged: each name is the same class as ``minidl.layers.<name>``."""

from minidl.layers.einsum_dense import EinsumDense
from minidl.layers.experimental import preprocessing

__all__ = ["EinsumDense", "preprocessing"]
