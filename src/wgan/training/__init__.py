"""The training core: one run's trainer and the parts it drives.

* :mod:`~wgan.training.trainer` -- :class:`~wgan.training.trainer.Trainer`: construction, the loop's cadences
  (log, evaluate, sample, checkpoint, ``fit(callback=..., every=...)``), Ctrl-C;
* :mod:`~wgan.training.state` -- the run's state in small parts (setup, players, streams, counters) and what a
  checkpoint holds of it;
* :mod:`~wgan.training.steps` -- the players' steps (WGAN Algorithm 1, WGAN-GP Algorithm 1), eager;
* :mod:`~wgan.training.compiled` -- the same steps as torch.func programs under ``torch.compile``;
* :mod:`~wgan.training.guard` -- the NaN guard;
* :mod:`~wgan.training.meters` -- running means for the metrics records;
* :mod:`~wgan.training.trick_hooks` -- the ``[tricks]`` switches as hooks of the loop (Salimans et al. 2016).

The run directory the trainer writes into is :mod:`wgan.rundir`. Nothing is imported here, so that importing one
part does not import the others (``from wgan import Trainer`` or ``from wgan.training.trainer import Trainer``).
"""
