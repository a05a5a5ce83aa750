"""The HTTP routes, one module per group: predict (JSON and image), explain (/explain: inside the
network), v2 (Open Inference Protocol), meta (/health, /model), metrics (/metrics) and docs (/docs);
common holds what they share."""
