"""Training and evaluation of the engage expression model (TensorFlow; not needed at runtime)."""
