"""envkit: reproducible, provably working TensorRT environments."""

__version__ = "0.1.0"
