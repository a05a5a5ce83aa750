"""Draw-a-digit: a from-scratch NumPy MLP for MNIST, its training pipeline and its web service."""
