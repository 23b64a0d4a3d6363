"""Per-data-kind hooks of the training loop (see :class:`wgan.train.DataKind`).

Module ``wgan.kinds.<kind>`` defines ``KIND: DataKind`` for samplers whose ``kind`` is ``<kind>``; the
``points`` kind (toy and manifold vectors) lives in :mod:`wgan.train` itself.
"""
