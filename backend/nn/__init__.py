"""The network and everything it needs to learn, in pure NumPy (no web imports).

activations  sigma and its backward step          costs       C and delta(L)
network      forward pass and backpropagation     optimizers  update rules, schedules
model        one net or an averaged ensemble      weights     .npz + JSON card, checked loading
mnist        IDX reading, hashes, download, split augment     affine + elastic + stroke width
trainer      the mini-batch loop, selection       presets     classic / fast / best recipes
metrics      accuracy, confusion matrix
"""
