"""The shape of MNIST as the network sees it: one home for 28, 784 and 10.

It imports nothing, so the service's settings can use it before NumPy is loaded.
"""

IMAGE_SIDE = 28  # an MNIST image is IMAGE_SIDE x IMAGE_SIDE pixels
N_INPUTS = IMAGE_SIDE * IMAGE_SIDE  # flattened row by row: the network's input size
N_CLASSES = 10  # the digits 0-9
