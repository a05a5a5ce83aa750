# A stand-in for python:3.11-slim-bookworm made of Debian's packages, for machines that cannot pull the
# official image (scripts/containers/build_base_images.sh builds it FROM a debootstrapped bookworm).
# What the project's Dockerfile expects of its base: `python` and `pip` on PATH, pip free to install
# into the system (the PEP 668 marker removed, as the official image has no such marker), CA certificates.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ENV LANG=C.UTF-8
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-pip python3-venv python-is-python3 ca-certificates \
    && update-ca-certificates \
    && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
    && ln -sf /usr/bin/pip3 /usr/local/bin/pip \
    && rm -rf /var/lib/apt/lists/*
CMD ["python3"]
