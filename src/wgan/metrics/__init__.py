"""Metrics, registered by names that state their protocol (see ``METRICS``)."""

from .frechet import frechet_distance, frechet_distance_from_samples
from .modes import ModeStats, mode_stats
from .wasserstein import w1_exact

METRICS = {
    "w1_exact_2k": "exact W1 (POT network simplex), 2,000 generated vs 2,000 data points, with the "
                   "data-vs-data floor from two independent 2,000-point samples",
    "modes_3std": "Gaussian mixtures: modes covered (>= 10% of the uniform share of high-quality samples) "
                  "and share of samples within 3 std of a mode, over the same 2,000 samples",
    "frechet_gaussian_closed_form": "squared Frechet distance between the data Gaussian and the generator's "
                                    "Gaussian, both from parameters in closed form (no samples; exact for "
                                    "singular covariances), Fedus et al. 2018 sec. 4",
    "ngram_js_bits_640": "text: character n-gram (n = 1..4) Jensen-Shannon divergence in bits between 640 argmax-"
                         "decoded generated sequences and all training lines, with the 640 held-out validation "
                         "lines vs training as the baseline (WGAN-GP sec. 5.5, the authors' js_with)",
    # images (wgan.metrics.image_metrics): <family><count>_<network>; any sample count may replace the number
    "fid5k_classifier": "FID (torchmetrics), 5,000 generated vs 5,000 training images, features of the library's "
                        "classifier (`wgan classifier train`; its held-out accuracy is recorded)",
    "kid5k_classifier": "KID (torchmetrics, unbiased MMD^2, cubic kernel, 100 subsets of 1,000), classifier features",
    "is5k_classifier": "Inception Score (torchmetrics' protocol: random permutation, 10 chunks, unbiased std) of "
                       "5,000 generated images, classifier logits",
    "fid10k_inception": "FID, 10,000 vs 10,000 8-bit images, pool3 of the 2015 TF FID Inception with the TF graph's "
                        "input path (TF1 bilinear resize), weights from --inception-weights PATH (never downloaded)",
    "fid10k_inception_pytorchfid": "FID as fid10k_inception with pytorch-fid's input path (F.interpolate bilinear; "
                                   "pool3 tested equal to pytorch-fid's network)",
    "kid10k_inception": "KID, 10,000 vs 10,000 8-bit images, pool3 of the 2015 TF FID Inception (TF graph input path)",
    "kid10k_inception_pytorchfid": "KID as kid10k_inception with pytorch-fid's input path",
    "is50k_inception": "Inception Score by the official protocol (Salimans et al.; improved_wgan_training "
                       "tflib/inception_score.py): 50,000 8-bit images, the 2015 graph's 1008-class softmax, 10 "
                       "consecutive splits, population std",
    "is50k_inception_torchmetrics": "Inception Score as is50k_inception but torchmetrics' split protocol (random "
                                    "permutation, torch.chunk, unbiased std)",
    "modes26k_stacked_classifier": "Stacked MNIST: modes hit of 1,000 and KL(mode histogram || uniform) over "
                                   "26,000 samples, each channel labelled by an MNIST classifier",
    "msssim1k_pairs": "MS-SSIM (torchmetrics, scales reduced for small images) over 1,000 random generated pairs, "
                      "next to the same over real pairs (lower = more diverse)",
    "w2k_indep_critic": "independent WGAN-GP critic trained on held-out real vs generated images; E f(real) - "
                        "E f(fake) on a further held-out split, 2,000 per side (Many Paths sec. 5.1)",
}

__all__ = ["METRICS", "ModeStats", "frechet_distance", "frechet_distance_from_samples", "mode_stats", "w1_exact"]
