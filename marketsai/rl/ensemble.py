"""Many independent Q-networks as one module: parameters with a leading member axis.

Why: a seed of a deep learner is bound by the fixed cost of one small update (RLlib's
training step, metrics, connectors: 5-30x a bare PyTorch loop, ``docs/scaling.md``), and
that cost is paid once per network. Stacking ``M`` networks -- every agent of every seed --
into tensors ``(M, in, out)`` makes one forward, one backward and one optimiser step serve
all of them (``torch.baddbmm``), as JAX stacks do with ``vmap``.

Independence is by construction, and tested (``tests/rl/test_batched_dqn.py``):

* member ``m`` of a layer only ever multiplies its own slice ``W[m]``, so the loss's
  gradient with respect to ``W[m]`` is a function of member ``m``'s batch only;
* the loss is a *sum over members* of each member's mean loss, so each member's gradient
  is what it would be alone;
* Adam is elementwise, so one ``torch.optim.Adam`` over the stacked tensors keeps each
  member's moments apart (all members step together, so the step counts agree);
* gradient clipping by global norm is per member (:func:`clip_per_member`): a global norm
  over all members would couple them;
* each member is initialised from its own ``torch.Generator`` (:meth:`StackedMLP.init_member`).

The DQN loss (:func:`dqn_loss`) is written here in plain torch, the reference that
RLlib's own loss over the same stacked layers is tested against
(:mod:`marketsai.rl.seed_batched_rllib`, ``backend: rllib`` of ``dqn_batched``). It follows
RLlib's conventions (2.60,
``dqn_torch_learner.py``, ``num_atoms=1``): double-Q targets from the online network's
argmax evaluated by the target network, ``r + gamma * Q_target`` detached, Huber loss
(delta 1) or MSE, the mean over the batch; RLlib's dueling head is not used (one MLP).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from marketsai.errors import NonFiniteLoss


class StackedMLP(torch.nn.Module):
    """``M`` MLPs ``in -> hiddens -> out`` (ReLU) with parameters ``(M, fan_in, fan_out)``.

    >>> net = StackedMLP(3, 2, [4], 5)
    >>> net(torch.zeros(3, 7, 2)).shape
    torch.Size([3, 7, 5])
    """

    def __init__(self, members: int, obs_dim: int, hiddens, out_dim: int):
        super().__init__()
        sizes = [int(obs_dim), *[int(h) for h in hiddens], int(out_dim)]
        self.members = int(members)
        self.weights = torch.nn.ParameterList(
            torch.nn.Parameter(torch.zeros(self.members, a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.biases = torch.nn.ParameterList(
            torch.nn.Parameter(torch.zeros(self.members, 1, b)) for b in sizes[1:])

    def init_member(self, m: int, generator: torch.Generator) -> None:
        """Member ``m`` as ``torch.nn.Linear`` initialises a layer (uniform on
        ``+-1/sqrt(fan_in)`` for weights and biases), drawn from ``generator`` only."""
        with torch.no_grad():
            for w, b in zip(self.weights, self.biases, strict=True):
                bound = 1.0 / math.sqrt(w.shape[1])
                w[m].uniform_(-bound, bound, generator=generator)
                b[m].uniform_(-bound, bound, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (M, B, in) -> (M, B, out)``."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = torch.relu(x)
        return x

    def member_arrays(self, m: int) -> list[tuple]:
        """Member ``m``'s layers as numpy ``(W (in, out), b (out,))`` pairs (for a policy)."""
        return member_layers(self.state_dict(), m)


def member_layers(state: dict, m: int) -> list[tuple]:
    """Member ``m``'s layers as numpy ``(W (in, out), b (out,))`` pairs, copies, of a
    :class:`StackedMLP`'s state dict: its tensors, or the arrays of an RLlib learner's state
    in a checkpoint (a policy export reads them without building the networks)."""
    def array(x):
        return (x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)).copy()
    layers = sum(k.startswith("weights.") for k in state)
    return [(array(state[f"weights.{i}"][m]), array(state[f"biases.{i}"][m, 0])) for i in range(layers)]


def clip_per_member(grads, max_norm: float) -> torch.Tensor:
    """Scale each member's gradients (tensors with a leading member axis) in place so that
    their global norm is at most ``max_norm``.

    RLlib's ``grad_clip_by: global_norm`` on one module, once per member: the norm runs over
    all of a member's parameters and none of the others'. Returns the norms ``(M,)``.
    """
    grads = [g for g in grads if g is not None]
    sq = sum(g.reshape(g.shape[0], -1).pow(2).sum(dim=1) for g in grads)
    norms = sq.sqrt()
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.reshape((-1,) + (1,) * (g.dim() - 1)))
    return norms


def nonfinite_members(members: int, tensors) -> list[int]:
    """The members with a NaN or an infinity in any of ``tensors``, each with a leading axis
    of ``members`` blocks: rows ``(M * R, ...)`` in member blocks, parameters or their
    gradients ``(M, ...)``; other values (scalars, non-tensors) are passed over.

    Why: a stacked loss is one number over all members; when it is not finite, this names
    whose rows or gradients made it so (what :class:`~marketsai.errors.NonFiniteLoss` reports).

    >>> nonfinite_members(3, [torch.tensor([1.0, 2.0, float("nan"), 4.0, 5.0, 6.0]), None])
    [1]
    """
    bad = torch.zeros(members, dtype=torch.bool)
    for x in tensors:
        if (isinstance(x, torch.Tensor) and x.dim() and x.is_floating_point() and x.numel()
                and x.shape[0] % members == 0):
            bad |= ~torch.isfinite(x.detach().reshape(members, -1)).all(dim=1).cpu()
    return [int(m) for m in torch.nonzero(bad).flatten()]


def stop_unless_finite_gradients(grads, members: int, norms: torch.Tensor | None = None) -> None:
    """Raise :class:`~marketsai.errors.NonFiniteLoss` naming the members whose gradients
    (tensors with a leading member axis) hold a NaN or an infinity; ``norms``, the members'
    gradient norms ``(M,)`` where clipping has computed them, are read instead of the gradients.

    Why: a finite loss can still have non-finite gradients; applied, they turn the members'
    weights into NaN (RLlib's learner instead sets them to zero and goes on). While all is
    well this costs a sum of each gradient (a NaN or an infinity makes it non-finite;
    ``isfinite`` on every gradient costs ten times as much on a CPU), or nothing given the
    norms, and one synchronisation; only a non-finite sum pays for the exact check of each
    member (a sum that overflowed on finite gradients passes)."""
    grads = [g for g in grads if g is not None]
    screen = norms if norms is not None else torch.stack([g.sum() for g in grads]) if grads else None
    if screen is not None and not bool(torch.isfinite(screen.sum())):
        bad = nonfinite_members(members, grads)
        if bad:
            raise NonFiniteLoss(bad, what="gradients")


def dqn_loss(online: StackedMLP, target: StackedMLP, obs, actions, rewards, next_obs, gamma: float,
             double_q: bool = True, huber: bool = True) -> torch.Tensor:
    """Each member's mean TD loss ``(M,)`` on its own batch ``obs (M, B, d)``, ``actions (M, B)``.

    No terminations: the economies only truncate, so targets always bootstrap.
    """
    n = obs.shape[1]
    q_all = online(torch.cat([obs, next_obs], dim=1))  # one forward for both halves
    q, q_next_online = q_all[:, :n], q_all[:, n:]
    q_selected = q.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
    with torch.no_grad():
        q_next_target = target(next_obs)
        best = (q_next_online if double_q else q_next_target).argmax(dim=-1, keepdim=True)
        y = rewards + gamma * q_next_target.gather(-1, best).squeeze(-1)
    if huber:
        err = torch.nn.functional.huber_loss(q_selected, y, reduction="none", delta=1.0)
    else:
        err = (q_selected - y).pow(2)
    return err.mean(dim=1)


class DQNEnsemble:
    """``M`` DQN learners updated in one step: online and target :class:`StackedMLP`, one
    Adam over the stacked tensors, per-member clipping (see the module docstring).

    ``generators``: one ``torch.Generator`` per member (its initial weights)."""

    def __init__(self, generators, obs_dim: int, hiddens, n_actions: int, *, lr: float = 5e-4,
                 adam_epsilon: float = 1e-8, grad_clip: float | None = 40.0, gamma: float = 0.99,
                 double_q: bool = True, huber: bool = True, device: str = "cpu"):
        members = len(generators)
        self.online = StackedMLP(members, obs_dim, hiddens, n_actions)
        for m, g in enumerate(generators):
            self.online.init_member(m, g)
        self.online.to(device)
        self.target = StackedMLP(members, obs_dim, hiddens, n_actions).to(device)
        self.target.load_state_dict(self.online.state_dict())
        self.target.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.online.parameters(), lr=lr, eps=adam_epsilon)
        self.grad_clip, self.gamma, self.double_q, self.huber = grad_clip, gamma, double_q, huber
        self.device = device

    @property
    def members(self) -> int:
        return self.online.members

    def q_values(self, obs: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.online(obs)

    def update(self, obs, actions, rewards, next_obs) -> torch.Tensor:
        """One gradient step of every member on its own batch; returns the losses ``(M,)``.
        A NaN or infinite loss or gradient raises :class:`~marketsai.errors.NonFiniteLoss`
        naming its members, before anything is changed."""
        losses = dqn_loss(self.online, self.target, obs, actions, rewards, next_obs, self.gamma,
                          self.double_q, self.huber)
        finite = torch.isfinite(losses)
        if not bool(finite.all()):  # stop before the step: the weights stay as the last good update left them
            raise NonFiniteLoss(torch.nonzero(~finite).flatten().tolist())
        self.optimizer.zero_grad(set_to_none=False)
        losses.sum().backward()  # a sum of per-member losses: each member's gradient is its own
        grads = [p.grad for p in self.online.parameters()]
        norms = None if self.grad_clip is None else clip_per_member(grads, self.grad_clip)
        stop_unless_finite_gradients(grads, self.members, norms)
        self.optimizer.step()
        return losses.detach()

    def sync_target(self) -> None:
        """Hard target update (RLlib's ``tau: 1``)."""
        with torch.no_grad():
            for t, o in zip(self.target.parameters(), self.online.parameters(), strict=True):
                t.copy_(o)

    def state_dict(self) -> dict:
        return {"online": self.online.state_dict(), "target": self.target.state_dict(),
                "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.online.load_state_dict(state["online"])
        self.target.load_state_dict(state["target"])
        self.optimizer.load_state_dict(state["optimizer"])


@contextlib.contextmanager
def denormals_flushed(enabled: bool):
    """Flush subnormal floats to zero on the CPU while the block runs, when ``enabled``.

    Why: late in a long run Adam's second moments of rarely updated weights decay into
    subnormal numbers (29 % of a 225,000-period DQN checkpoint's optimiser and network
    entries), and x86 arithmetic on them is slow: an update costs about 1.5x as much
    (docs/scaling.md). Flushing changes results only where subnormals occur, so it is a
    learner setting (``flush_denormal``), off by default to keep runs reproducible across
    versions. The process-wide setting is put back to torch's default (off) after the block.
    """
    if not enabled:
        yield
        return
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
