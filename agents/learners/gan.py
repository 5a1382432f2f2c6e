"""A semi-supervised GAN: a discriminator-classifier and a generator (Salimans et al. 2016).

Vocabulary, after "Improved Techniques for Training GANs" (Salimans et al., 2016) and
"Semi-Supervised Learning with Generative Adversarial Networks" (Odena, 2016):

- **discriminator-classifier** D: K logits ``l`` for the K classes; the (K+1)-th class,
  "generated", has the fixed logit 0, so ``p(real | x) = Z / (Z + 1)`` with
  ``Z = sum(exp(l))``. One network both classifies and judges.
- **generator** G: noise ``z`` -> a sample in [0, 1].
- **feature matching**: G is trained to match the mean of D's last hidden features on real
  samples, not to fool D's output; that stops G from collapsing onto a few modes and gives D
  samples just off the data to draw its class boundaries around.

In the loop the two networks act as two players of ``envs.paradigms.adversarial``: D answers
each real sample's class and how real the real and the generated sample look; G hands in a
batch of samples, which the env serves back to D on the next step. Feature matching needs
D's gradients inside G's update, so this learner couples the two networks directly there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from agents.learners.base import Learner, masked
from agents.learners.nets import AveragedCopy, shift, strong_augment
from agents.learners.supervised import ReplayBuffer


class GaussianNoise(nn.Module):
    """Adds N(0, std^2) noise in training mode only."""

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and self.std > 0:
            return x + self.std * torch.randn_like(x)
        return x


class ConvDiscriminator(nn.Module):
    """Image -> (K class logits, the hidden features feature matching compares).

    Three 3x3 convolution stages (the middle one halves the resolution) and a global average,
    leaky ReLU throughout, Gaussian noise on the input and dropout between the stages: the
    regularisation a discriminator trained on a few hundred images needs.
    """

    def __init__(
        self, obs_shape: tuple[int, ...], classes: int, width: int, noise: float, dropout: float
    ) -> None:
        super().__init__()
        channels = obs_shape[0]

        def conv(inputs: int, outputs: int, stride: int = 1) -> list[nn.Module]:
            return [nn.Conv2d(inputs, outputs, 3, stride, 1), nn.LeakyReLU(0.2)]

        self.body = nn.Sequential(
            GaussianNoise(noise),
            *conv(channels, width // 2),
            *conv(width // 2, width // 2),
            nn.Dropout(dropout),
            *conv(width // 2, width, stride=2),
            *conv(width, width),
            nn.Dropout(dropout),
            *conv(width, width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(width, classes)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(obs)
        return self.head(features), features


class MlpDiscriminator(nn.Module):
    """Image -> (K class logits, hidden features): dense layers with Gaussian noise on the input
    and every hidden layer (Salimans et al.'s MNIST discriminator, smaller)."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        classes: int,
        width: int,
        noise: float,
        hidden_noise: float,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten(), GaussianNoise(noise)]
        inputs = int(np.prod(obs_shape))
        for outputs in (width * 2, width, width):
            layers += [nn.Linear(inputs, outputs), nn.LeakyReLU(0.2), GaussianNoise(hidden_noise)]
            inputs = outputs
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(inputs, classes)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(obs)
        return self.head(features), features


class Generator(nn.Module):
    """Noise (``noise_dim``) -> a sample of ``out_shape`` in [0, 1]: an MLP with batch norm."""

    def __init__(self, noise_dim: int, out_shape: tuple[int, ...], hidden: int = 256) -> None:
        super().__init__()
        self.noise_dim = noise_dim
        self.out_shape = tuple(out_shape)
        self.body = nn.Sequential(
            nn.Linear(noise_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, int(np.prod(out_shape))),
            nn.Sigmoid(),
        )

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.body(noise).view(-1, *self.out_shape)


def one_pixel_shifts(images: torch.Tensor) -> list[torch.Tensor]:
    """The images and their shifts by one pixel up, down, left and right (zeros fill in)."""
    padded = nn.functional.pad(images, (1, 1, 1, 1))
    height, width = images.shape[-2:]
    offsets = ((1, 1), (0, 1), (2, 1), (1, 0), (1, 2))  # (row, col) of the window; (1, 1): as is
    return [padded[..., r : r + height, c : c + width] for r, c in offsets]


def realness_logit(logits: torch.Tensor) -> torch.Tensor:
    """log Z: the logit of ``p(real)`` when the generated class's logit is fixed at 0."""
    return torch.logsumexp(logits, dim=1)


class GanLearner(Learner):
    """A semi-supervised GAN on image classification (K logits, implicit "generated" class).

    Each env step of ``envs.paradigms.adversarial`` makes one update of each network. D
    (``discriminator`` loss): cross-entropy on a minibatch of remembered labelled samples
    (shifted by up to ``augment`` pixels), plus ``unlabelled_coef`` x the GAN loss that says the
    step's real samples are real and the generated samples the env served are not, plus
    ``consistency_coef`` x cross-entropy of a heavily augmented view of each real sample against
    the class a lightly augmented view gets where that is at least ``threshold`` confident. G:
    feature matching against the step's real samples. An averaged copy of D classifies when
    acting greedily; on a plain Classify observation (a batch of images) the learner is a
    classifier, so it is scored on ``learnloop/Classify-v0`` like any other.

    Hyperparameters: ``arch`` ("auto" or "mlp": dense layers 2w, w, w with Gaussian noise;
    "cnn": five 3x3 convolutions with dropout), ``width`` (w, 256), ``noise_dim`` (G's input,
    64), ``learning_rate`` (D's Adam step, 3e-3), ``generator_learning_rate`` (1e-3),
    ``batch_size`` (labelled items per update, 64), ``memory`` (labelled items kept, 20000),
    ``augment`` (max pixel shift, 1), ``input_noise`` (0.15), ``hidden_noise`` (0.3, MLP),
    ``dropout`` (0.3, CNN), ``unlabelled_coef`` (1.0), ``consistency_coef`` (1.0),
    ``threshold`` (0.8), ``average`` (0.999), ``decay_updates`` (0: constant step sizes),
    ``test_shifts`` (False: True classifies by the mean over the image and its one-pixel
    shifts).
    """

    paradigm = "semi-supervised (adversarial)"
    uses = "label"
    DEFAULTS: dict[str, Any] = {
        "arch": "auto", "width": 256, "noise_dim": 64, "learning_rate": 3e-3,
        "generator_learning_rate": 1e-3, "batch_size": 64, "memory": 20_000, "augment": 1,
        "input_noise": 0.15, "dropout": 0.3, "hidden_noise": 0.3, "unlabelled_coef": 1.0, "consistency_coef": 1.0,
        "threshold": 0.8, "average": 0.999, "decay_updates": 0,
        "test_shifts": False,
    }  # fmt: skip

    def build(self, observation_space: spaces.Space, action_space: spaces.Space) -> None:
        h = self.hyper
        image_space = observation_space
        if isinstance(observation_space, spaces.Dict):  # the adversarial env's pair
            image_space = observation_space["real"]
        if isinstance(action_space, spaces.Dict):
            action_space = action_space["label"]
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"GanLearner needs classes (Discrete actions), got {action_space}")
        shape = tuple(image_space.shape)
        if len(shape) != 3:
            raise ValueError(f"GanLearner needs image observations (C, H, W), got {shape}")
        if h["arch"] not in ("auto", "cnn", "mlp"):
            raise ValueError(f"GanLearner's arch must be 'auto', 'cnn' or 'mlp', got {h['arch']!r}")
        if h["arch"] == "cnn":  # "auto" is the MLP: on 8x8 digits it is better and 5x cheaper
            self.discriminator: nn.Module = ConvDiscriminator(
                shape, int(action_space.n), h["width"], h["input_noise"], h["dropout"]
            )
        else:
            self.discriminator = MlpDiscriminator(
                shape, int(action_space.n), h["width"], h["input_noise"], h["hidden_noise"]
            )
        self.discriminator.to(self.device)
        self.generator_net = Generator(h["noise_dim"], shape).to(self.device)
        self.average = AveragedCopy(self.discriminator, h["average"])
        betas = (0.5, 0.999)  # Salimans et al.'s Adam momentum for both players
        self.d_opt = torch.optim.Adam(
            self.discriminator.parameters(), h["learning_rate"], betas=betas
        )
        self.g_opt = torch.optim.Adam(
            self.generator_net.parameters(), h["generator_learning_rate"], betas=betas
        )
        self.buffer = ReplayBuffer(h["memory"])

    def modules(self) -> dict[str, nn.Module]:
        return {
            "discriminator": self.discriminator,
            "generator": self.generator_net,
            "average": self.average.module,
        }

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"discriminator": self.d_opt, "generator": self.g_opt}

    def extra_state(self) -> dict[str, Any]:
        return {"buffer": self.buffer.state()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        self.buffer.load(state["buffer"])

    def train_mode(self, training: bool) -> None:
        super().train_mode(training)
        self.average.module.eval()  # the averaged copy only ever acts

    # -- acting ---------------------------------------------------------------------------------

    def classify(self, obs: Any) -> np.ndarray:
        """The averaged discriminator's class for each image of a batch: with ``test_shifts``,
        the class of its mean probabilities over the image and its four one-pixel shifts."""
        images = self.tensor(obs)
        views = one_pixel_shifts(images) if self.hyper["test_shifts"] else [images]
        with torch.no_grad():
            probabilities = sum(torch.softmax(self.average.module(v)[0], 1) for v in views)
        return probabilities.argmax(dim=1).cpu().numpy()

    def generate(self, count: int) -> torch.Tensor:
        """``count`` samples of the generator (no gradients)."""
        noise = torch.randn(count, self.hyper["noise_dim"], generator=self.generator)
        with torch.no_grad():
            return self.generator_net(noise.to(self.device))

    def act_batch(
        self, obs: Any, action_masks: np.ndarray | None = None, deterministic: bool = True
    ) -> Any:
        if not isinstance(obs, dict):  # a classification env: be the classifier
            return self.classify(obs)
        real, generated = self.tensor(obs["real"]), self.tensor(obs["generated"])
        training = self.discriminator.training
        self.discriminator.train(not deterministic)  # greedy answers: without its input noise
        with torch.no_grad():
            logits = self.discriminator(torch.cat([real, generated]))[0]
        self.discriminator.train(training)
        realness = torch.sigmoid(realness_logit(logits)).view(2, -1).T
        return {
            "label": logits[: len(real)].argmax(dim=1).cpu().numpy(),
            "realness": realness.cpu().numpy(),
            "generated": self.generate(len(real)).cpu().numpy(),
        }

    # -- learning -------------------------------------------------------------------------------

    def observe(
        self, obs: Any, actions: Any, rewards: np.ndarray, info: dict[str, Any]
    ) -> dict[str, float]:
        if not isinstance(obs, dict):
            raise ValueError("GanLearner trains on the adversarial env (real and generated pairs)")
        real = obs["real"]
        present = masked(info, "label", len(real))
        if present.any():
            labels = torch.as_tensor(np.asarray(info["label"])[present]).long()
            self.buffer.add(obs=self.tensor(real[present]).cpu(), target=labels)
        if self.buffer.size == 0:
            return {}
        self.anneal()
        batch = self.buffer.sample(self.hyper["batch_size"], self.generator)
        metrics = self.update_discriminator(batch, self.tensor(real), self.tensor(obs["generated"]))
        metrics.update(self.update_generator(self.tensor(real)))
        self.average.update(self.discriminator)
        self.updates += 1
        metrics["charts/judged_right"] = float(np.mean(info.get("judged_right", np.nan)))
        metrics["charts/fooled"] = float(np.mean(info.get("fooled", np.nan)))
        return metrics

    def anneal(self) -> None:
        """Both step sizes fall linearly to 0 over the second half of ``decay_updates``
        (0: constant), as Salimans et al. anneal theirs."""
        total = self.hyper["decay_updates"]
        if not total:
            return
        scale = min(1.0, max(0.0, 2.0 * (1.0 - self.updates / total)))
        for opt, key in ((self.d_opt, "learning_rate"), (self.g_opt, "generator_learning_rate")):
            for group in opt.param_groups:
                group["lr"] = self.hyper[key] * scale

    def update_discriminator(
        self, batch: dict[str, torch.Tensor], real: torch.Tensor, generated: torch.Tensor
    ) -> dict[str, float]:
        """One step of D: labelled cross-entropy, the GAN loss, consistency on real samples."""
        h = self.hyper
        labelled = shift(batch["obs"].to(self.device), h["augment"])
        weak = shift(real, h["augment"])
        strong = strong_augment(real)
        views = [labelled, weak, generated] + ([strong] if h["consistency_coef"] else [])
        logits = self.discriminator(torch.cat(views))[0]
        pieces = torch.split(logits, [len(v) for v in views])
        supervised = nn.functional.cross_entropy(pieces[0], batch["target"].to(self.device))
        real_logit, fake_logit = realness_logit(pieces[1]), realness_logit(pieces[2])
        # -log p(real | real sample) - log p(generated | generated sample)
        adversarial = (
            nn.functional.softplus(-real_logit).mean() + nn.functional.softplus(fake_logit).mean()
        )
        loss = supervised + h["unlabelled_coef"] * adversarial
        metrics = {
            "losses/cross_entropy": supervised.item(),
            "losses/adversarial": adversarial.item(),
        }
        if h["consistency_coef"]:
            confidence, pseudo = torch.softmax(pieces[1].detach(), 1).max(1)
            confident = (confidence >= h["threshold"]).float()
            consistency = (
                nn.functional.cross_entropy(pieces[3], pseudo, reduction="none") * confident
            ).mean()
            loss = loss + h["consistency_coef"] * consistency
            metrics["losses/consistency"] = consistency.item()
            metrics["charts/confident_fraction"] = confident.mean().item()
        self.d_opt.zero_grad()
        loss.backward()
        self.d_opt.step()
        return metrics

    def update_generator(self, real: torch.Tensor) -> dict[str, float]:
        """One step of G: match the mean of D's features on real samples (D's gradients pass
        into G here; only G's weights move)."""
        noise = torch.randn(len(real), self.hyper["noise_dim"], generator=self.generator)
        fake = self.generator_net(noise.to(self.device))
        with torch.no_grad():
            target = self.discriminator(real)[1].mean(dim=0)
        matched = self.discriminator(fake)[1].mean(dim=0)
        loss = (matched - target).pow(2).mean()
        self.g_opt.zero_grad()
        loss.backward()
        self.g_opt.step()
        return {"losses/feature_matching": loss.item()}
