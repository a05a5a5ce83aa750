"""The recogniser: from any picture of handwriting to the network's answers, without the web.

    preprocess   a picture of one digit -> the 784 MNIST-style inputs (ported line by line to the page's JS)
    evaluation   test accuracy, confusion matrix, robustness to shifted/scaled/rotated/thick/thin digits
    explain      one answer looked into: each layer's activations, per-pixel evidence that adds up exactly
    learning     how a model learned: the presets' figures and curves from their cards, the test digits it gets wrong

It builds on backend.nn and imports nothing from the service.
"""
