"""Seeds as a batch dimension: per-seed DQN, SAC and PPO update cost -- RLlib per seed, RLlib batched, plain-torch batched, bare loop.

Measured side by side in one run (interleaved rounds, best round kept: the machine is
shared), the same network (obs 2 -> 64 -> 64 -> 15 ReLU, the Calvano duopoly's firm),
batch 64, the same loss (double-Q, Huber, gamma 0.95), Adam 5e-4, global-norm clipping at 40:

* ``bare loop``: one ``torch.nn.Sequential`` network, ``torch.nn.utils.clip_grad_norm_``,
  its own target network -- written here only, the floor a seed's update could cost;
* ``RLlib, one algorithm per seed``: RLlib's ``DQNTorchLearner`` on its default DQN module
  (same layers, no dueling head), one local ``LearnerGroup.update`` per seed -- what each
  seed's algorithm pays per update on today's path (sampling and the training step excluded);
* ``RLlib batched S``: ``dqn_batched`` with ``backend: rllib`` -- RLlib's own learner and
  loss over one RLModule whose parameters carry the seed axis
  (:mod:`marketsai.rl.seed_batched_rllib`), one ``LearnerGroup.update`` for all ``S``;
* ``plain-torch batched S``: :class:`marketsai.rl.ensemble.DQNEnsemble`, our own loss;
  per-seed cost = step time / S.

Replay sampling is excluded from the update rows (fixed batches). The end-to-end rows train
``dqn_batched`` (both backends) on the duopoly (2 firms: ``2 S`` networks) at one update per
period and report periods (= updates) per second per seed, environment and replay included;
beside them RLlib's DQN algorithm on the per-agent path at one update per period
(:func:`bench_replay.measure`: RLlib's default DQN head on a 64x64 encoder, one local Ray).

The SAC rows (third table) are the same comparison for SAC on the price interval: a bare
PyTorch SAC update written here, RLlib's ``SACTorchLearner`` on its default module per seed,
and ``sac_batched``'s learner (:mod:`marketsai.rl.seed_batched_sac`) over ``S`` seeds.

The PPO rows (fourth table): a bare PyTorch PPO minibatch update, RLlib's
``PPOTorchLearner`` on its default module per seed, and ``ppo_batched``'s learner
(:mod:`marketsai.rl.seed_batched_ppo`) over ``S`` seeds.

The SAC-on-the-grid rows (last table): a bare PyTorch discrete SAC update written here,
RLlib's ``SACTorchLearner`` (discrete loss) on its default module per seed, and
``sac_batched``'s learner on a grid over ``S`` seeds.

Usage: ``python benchmarks/bench_batched_seeds.py [--updates 300] [--rounds 3] [--sizes 1 4 8 16]
[--periods 200] [--sac-updates 100] [--ppo-updates 300] [--sac-grid-updates 100] [--rllib-steps 2000]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from common import dated, machine, single_threaded

ROOT = Path(__file__).resolve().parents[1]
OBS, HID, ACT, BATCH, GAMMA = 2, [64, 64], 15, 64, 0.95


def bare_loop(torch, seed: int = 0):
    """One network's update, plain PyTorch (the benchmark's own code)."""
    torch.manual_seed(seed)

    def net():
        return torch.nn.Sequential(torch.nn.Linear(OBS, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                   torch.nn.ReLU(), torch.nn.Linear(64, ACT))
    online, target = net(), net()
    target.load_state_dict(online.state_dict())
    opt = torch.optim.Adam(online.parameters(), lr=5e-4, eps=1e-8)
    obs, nxt = torch.randn(BATCH, OBS), torch.randn(BATCH, OBS)
    act, rew = torch.randint(0, ACT, (BATCH,)), torch.randn(BATCH)

    def update():
        q = online(obs).gather(1, act[:, None])[:, 0]
        with torch.no_grad():
            best = online(nxt).argmax(1, keepdim=True)
            y = rew + GAMMA * target(nxt).gather(1, best)[:, 0]
        loss = torch.nn.functional.huber_loss(q, y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(online.parameters(), 40.0)
        opt.step()
    return update


def batched(torch, S: int):
    from marketsai.rl.ensemble import DQNEnsemble
    ens = DQNEnsemble([torch.Generator().manual_seed(s) for s in range(S)], OBS, HID, ACT, gamma=GAMMA)
    obs, nxt = torch.randn(S, BATCH, OBS), torch.randn(S, BATCH, OBS)
    act, rew = torch.randint(0, ACT, (S, BATCH)), torch.randn(S, BATCH)
    return lambda: ens.update(obs, act, rew, nxt)


def fixed_batch(rng, S: int) -> dict:
    """Fixed transitions ``(S, BATCH, ...)`` as numpy arrays."""
    return {"obs": rng.normal(size=(S, BATCH, OBS)).astype("float32"), "actions": rng.integers(0, ACT, (S, BATCH)),
            "rewards": rng.normal(size=(S, BATCH)).astype("float32"),
            "next_obs": rng.normal(size=(S, BATCH, OBS)).astype("float32")}


def rllib_batched(S: int):
    """RLlib's learner over the S seeds' one stacked RLModule (``backend: rllib``)."""
    import numpy as np

    from marketsai.rl.seed_batched_rllib import RLlibMembers, learner_group
    ens = RLlibMembers(learner_group(list(range(S)), OBS, HID, ACT, lr=5e-4, adam_epsilon=1e-8, grad_clip=40.0,
                                     gamma=GAMMA, double_q=True, huber=True, target_network_update_freq=10**9))
    batch = fixed_batch(np.random.default_rng(0), S)
    return lambda: ens.update(batch, 0)


def rllib_per_seed():
    """One seed's update on today's path: RLlib's DQN learner on its default module, one network."""
    import gymnasium as gym
    import numpy as np
    from ray.rllib.algorithms.dqn import DQNConfig
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

    from marketsai.rl.replay import transitions
    config = (DQNConfig().training(lr=5e-4, gamma=GAMMA, double_q=True, dueling=False, num_atoms=1, n_step=1,
                                   grad_clip=40.0, grad_clip_by="global_norm", target_network_update_freq=10**9)
              .rl_module(model_config={"fcnet_hiddens": HID, "fcnet_activation": "relu", "head_fcnet_hiddens": []})
              .learners(num_learners=0))
    group = config.build_learner_group(spaces={"default_policy": (
        gym.spaces.Box(-np.inf, np.inf, (OBS,), np.float32), gym.spaces.Discrete(ACT))})
    b = {c: v[0] for c, v in fixed_batch(np.random.default_rng(0), 1).items()}
    batch = MultiAgentBatch({"default_policy": transitions(b["obs"], b["actions"], b["rewards"], b["next_obs"])},
                            env_steps=BATCH)
    return lambda: group.update(batch=batch, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0})


def rllib_algorithm_per_seed(steps: int) -> float:
    """Periods (= updates of both firms' networks) per second of one seed's RLlib DQN
    algorithm, per-agent path, one update per period (one local Ray for the measurement)."""
    import ray
    from bench_replay import measure
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=200 * 2**20, log_to_driver=False)
    try:
        return measure("DQN", "bertrand_duopoly.yaml", "agent", None, 1, steps)[0]
    finally:
        ray.shutdown()


# ---------------------------------------------------------------- SAC on the interval
SAC_LR, TAU = 3e-4, 5e-3


def sac_networks(torch, pi_out: int, q_in: int, q_out: int, seed: int):
    """A bare SAC's networks (64x64 ReLU): actor, twin critics, their targets, the
    log-temperature, and the four Adam optimisers (RLlib's: eps 1e-7)."""
    import copy
    torch.manual_seed(seed)

    def mlp(i, o):
        return torch.nn.Sequential(torch.nn.Linear(i, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                   torch.nn.Linear(64, o))
    pi, q1, q2 = mlp(OBS, pi_out), mlp(q_in, q_out), mlp(q_in, q_out)
    t1, t2 = copy.deepcopy(q1), copy.deepcopy(q2)
    log_alpha = torch.zeros(1, requires_grad=True)
    opts = [torch.optim.Adam(p, lr=SAC_LR, eps=1e-7) for p in (q1.parameters(), q2.parameters(), pi.parameters(),
                                                                [log_alpha])]
    return pi, q1, q2, t1, t2, log_alpha, opts


def sac_step(torch, opts, loss, pairs) -> None:
    """One backward of ``loss``, the four Adam steps, the polyak update of ``pairs`` (target, online)."""
    for o in opts:
        o.zero_grad()
    loss.backward()
    for o in opts:
        o.step()
    with torch.no_grad():
        for t, o in pairs:
            for pt, po in zip(t.parameters(), o.parameters(), strict=True):
                pt.mul_(1 - TAU).add_(po, alpha=TAU)


def sac_bare_loop(torch, seed: int = 0):
    """One seed's SAC update (continuous, twin critics, learned temperature), plain PyTorch
    (the benchmark's own code): RLlib's losses from one forward pass, one backward, four Adam
    steps, polyak targets."""
    import math
    pi, q1, q2, t1, t2, log_alpha, opts = sac_networks(torch, 2, OBS + 1, 1, seed)
    obs, nxt, act, rew = torch.randn(BATCH, OBS), torch.randn(BATCH, OBS), torch.rand(BATCH, 1) * 2 - 1, torch.randn(BATCH)

    def sample(o):
        loc, log_std = pi(o).chunk(2, dim=-1)
        std = log_std.clamp(-5, 2).exp()
        u = loc + std * torch.randn_like(loc)
        logp = torch.distributions.Normal(loc, std).log_prob(u).sum(-1)
        return torch.tanh(u), logp - (2 * (math.log(2) - u - torch.nn.functional.softplus(-2 * u))).sum(-1)

    def q(a, b, o, x):
        return torch.min(a(torch.cat([o, x], -1)), b(torch.cat([o, x], -1)))[:, 0]

    def update():
        alpha = log_alpha.exp()
        with torch.no_grad():
            a_next, logp_next = sample(nxt)
            y = rew + GAMMA * (q(t1, t2, nxt, a_next) - alpha * logp_next)
        sa = torch.cat([obs, act], -1)
        critic = (torch.nn.functional.huber_loss(q1(sa)[:, 0], y) + torch.nn.functional.huber_loss(q2(sa)[:, 0], y))
        a, logp = sample(obs)
        for p in [*q1.parameters(), *q2.parameters()]:
            p.requires_grad_(False)
        actor = (alpha.detach() * logp - q(q1, q2, obs, a)).mean()
        for p in [*q1.parameters(), *q2.parameters()]:
            p.requires_grad_(True)
        temperature = -(log_alpha * (logp.detach() - 1.0)).mean()
        sac_step(torch, opts, critic + actor + temperature, ((t1, q1), (t2, q2)))
    return update


def sac_batch(rng, S: int) -> dict:
    """Fixed SAC transitions and draws ``(S, BATCH, ...)`` as numpy arrays."""
    return {"obs": rng.normal(size=(S, BATCH, OBS)).astype("float32"),
            "actions": rng.uniform(-1, 1, (S, BATCH, 1)).astype("float32"),
            "rewards": rng.normal(size=(S, BATCH)).astype("float32"),
            "next_obs": rng.normal(size=(S, BATCH, OBS)).astype("float32"),
            "noise": rng.normal(size=(S, BATCH, 1)).astype("float32"),
            "noise_next": rng.normal(size=(S, BATCH, 1)).astype("float32")}


def sac_rllib_batched(S: int):
    """RLlib's SAC learner over the S seeds' one stacked RLModule (``sac_batched``)."""
    import numpy as np

    from marketsai.rl.seed_batched_sac import RLlibSACMembers, sac_learner_group
    ens = RLlibSACMembers(sac_learner_group(list(range(S)), OBS, HID, actor_lr=SAC_LR, critic_lr=SAC_LR,
                                            alpha_lr=SAC_LR, initial_alpha=1.0, target_entropy=None, tau=TAU,
                                            grad_clip=None, gamma=GAMMA))
    batch = sac_batch(np.random.default_rng(0), S)
    return lambda: ens.update(batch, 0)


def sac_rllib_per_seed(grid: bool = False):
    """One seed's SAC update on today's path: RLlib's SAC learner on its default module
    (with ``grid``, its discrete loss over the 15 prices)."""
    import gymnasium as gym
    import numpy as np
    from ray.rllib.algorithms.sac import SACConfig
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

    from marketsai.rl.replay import transitions
    config = (SACConfig().training(actor_lr=SAC_LR, critic_lr=SAC_LR, alpha_lr=SAC_LR, tau=TAU, gamma=GAMMA, n_step=1,
                                   **({"target_entropy": GRID_TARGET_ENTROPY} if grid else {}))
              .rl_module(model_config={"fcnet_hiddens": HID, "fcnet_activation": "relu", "head_fcnet_hiddens": []})
              .learners(num_learners=0))
    space = gym.spaces.Discrete(ACT) if grid else gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    group = config.build_learner_group(spaces={"default_policy": (
        gym.spaces.Box(-np.inf, np.inf, (OBS,), np.float32), space)})
    b = {c: v[0] for c, v in (sac_grid_batch if grid else sac_batch)(np.random.default_rng(0), 1).items()}
    batch = MultiAgentBatch({"default_policy": transitions(b["obs"], b["actions"], b["rewards"], b["next_obs"])},
                            env_steps=BATCH)
    return lambda: group.update(batch=batch, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0})


# ---------------------------------------------------------------- SAC on the grid
GRID_TARGET_ENTROPY = 0.5  # nats, as sac_batched_grid_500k.yaml


def sac_grid_bare_loop(torch, seed: int = 0):
    """One seed's discrete SAC update (twin critics over the 15 prices, learned
    temperature), plain PyTorch (the benchmark's own code): RLlib's discrete losses
    (expectations over the actions) from one forward pass, one backward, four Adam steps,
    polyak targets."""
    pi, q1, q2, t1, t2, log_alpha, opts = sac_networks(torch, ACT, OBS, ACT, seed)
    obs, nxt, rew = torch.randn(BATCH, OBS), torch.randn(BATCH, OBS), torch.randn(BATCH)
    act = torch.randint(0, ACT, (BATCH, 1))

    def update():
        alpha = log_alpha.exp()
        with torch.no_grad():
            p_next = torch.softmax(pi(nxt), dim=-1)
            y = rew + GAMMA * (p_next * (torch.min(t1(nxt), t2(nxt)) - alpha * p_next.log())).sum(-1)
        q1o, q2o = q1(obs), q2(obs)
        critic = (torch.nn.functional.huber_loss(q1o.gather(-1, act)[:, 0], y)
                  + torch.nn.functional.huber_loss(q2o.gather(-1, act)[:, 0], y))
        p = torch.softmax(pi(obs), dim=-1)
        actor = (p * (alpha.detach() * p.log() - torch.min(q1o, q2o).detach())).sum(-1).mean()
        temperature = -(log_alpha * ((p * p.log()).sum(-1).detach() + GRID_TARGET_ENTROPY)).mean()
        sac_step(torch, opts, critic + actor + temperature, ((t1, q1), (t2, q2)))
    return update


def sac_grid_batch(rng, S: int) -> dict:
    """Fixed grid transitions ``(S, BATCH, ...)`` as numpy arrays (no draws: the discrete
    loss takes expectations)."""
    return {"obs": rng.normal(size=(S, BATCH, OBS)).astype("float32"), "actions": rng.integers(0, ACT, (S, BATCH)),
            "rewards": rng.normal(size=(S, BATCH)).astype("float32"),
            "next_obs": rng.normal(size=(S, BATCH, OBS)).astype("float32")}


def sac_grid_rllib_batched(S: int):
    """RLlib's SAC learner (discrete loss) over the S seeds' one stacked RLModule (``sac_batched`` on a grid)."""
    import numpy as np

    from marketsai.rl.seed_batched_sac import RLlibSACMembers, sac_learner_group
    ens = RLlibSACMembers(sac_learner_group(list(range(S)), OBS, HID, n_actions=ACT, actor_lr=SAC_LR, critic_lr=SAC_LR,
                                            alpha_lr=SAC_LR, initial_alpha=1.0, target_entropy=GRID_TARGET_ENTROPY,
                                            tau=TAU, grad_clip=None, gamma=GAMMA))
    batch = sac_grid_batch(np.random.default_rng(0), S)
    return lambda: ens.update(batch, 0)


# ---------------------------------------------------------------- PPO on the grid
PPO_LR = 5e-5


def ppo_bare_loop(torch, seed: int = 0):
    """One seed's PPO minibatch update (RLlib's loss: clipped surrogate, clipped squared
    value error, no KL or entropy term), plain PyTorch (the benchmark's own code)."""
    torch.manual_seed(seed)

    def mlp(o):
        return torch.nn.Sequential(torch.nn.Linear(OBS, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                   torch.nn.Linear(64, o))
    pi, vf = mlp(ACT), mlp(1)
    opt = torch.optim.Adam([*pi.parameters(), *vf.parameters()], lr=PPO_LR)
    obs, act = torch.randn(BATCH, OBS), torch.randint(0, ACT, (BATCH,))
    old_logp, adv, targets = torch.full((BATCH,), -2.7), torch.randn(BATCH), torch.randn(BATCH)

    def update():
        logp = torch.log_softmax(pi(obs), -1).gather(1, act[:, None])[:, 0]
        ratio = torch.exp(logp - old_logp)
        surrogate = torch.min(adv * ratio, adv * ratio.clamp(0.7, 1.3))
        vf_loss = (vf(obs)[:, 0] - targets).pow(2).clamp(0, 10.0)
        loss = (-surrogate + vf_loss).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return update


def ppo_batch(rng, S: int) -> dict:
    """A fixed PPO minibatch ``(S, BATCH, ...)`` as numpy arrays."""
    return {"obs": rng.normal(size=(S, BATCH, OBS)).astype("float32"), "actions": rng.integers(0, ACT, (S, BATCH)),
            "logp": np.full((S, BATCH), -np.log(ACT), np.float32), "logits": np.zeros((S, BATCH, ACT), np.float32),
            "advantages": rng.normal(size=(S, BATCH)).astype("float32"),
            "value_targets": rng.normal(size=(S, BATCH)).astype("float32")}


def ppo_rllib_batched(S: int):
    """RLlib's PPO learner over the S seeds' one stacked RLModule (``ppo_batched``)."""
    from marketsai.rl.seed_batched_ppo import RLlibPPOMembers, ppo_learner_group
    ens = RLlibPPOMembers(ppo_learner_group(list(range(S)), OBS, HID, ACT, lr=PPO_LR, clip_param=0.3,
                                            vf_clip_param=10.0, vf_loss_coeff=1.0, entropy_coeff=0.0, grad_clip=None,
                                            use_kl_loss=False, kl_coeff=0.0, kl_target=0.01))
    batch = ppo_batch(np.random.default_rng(0), S)
    return lambda: ens.update(batch, 0)


def ppo_rllib_per_seed():
    """One seed's PPO minibatch update on today's path: RLlib's PPO learner on its default module."""
    import gymnasium as gym
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.policy.sample_batch import MultiAgentBatch
    from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME

    from marketsai.rl.seed_batched_ppo import RLlibPPOMembers
    config = (PPOConfig().training(lr=PPO_LR, use_kl_loss=False, kl_coeff=0.0)
              .rl_module(model_config={"fcnet_hiddens": HID, "fcnet_activation": "relu", "head_fcnet_hiddens": []})
              .learners(num_learners=0))
    group = config.build_learner_group(spaces={"default_policy": (
        gym.spaces.Box(-np.inf, np.inf, (OBS,), np.float32), gym.spaces.Discrete(ACT))})
    b = {c: v[0] for c, v in ppo_batch(np.random.default_rng(0), 1).items()}
    batch = MultiAgentBatch({"default_policy": RLlibPPOMembers.columns(b)}, env_steps=BATCH)
    return lambda: group.update(batch=batch, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 0})


def rate(fn, n: int) -> float:
    for _ in range(10):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def end_to_end(sizes, periods: int, rounds: int) -> dict:
    """Periods per second of each seed of ``dqn_batched`` (both backends) on the duopoly, one
    update per period: interleaved windows of ``periods`` periods, the best window of each
    ``(backend, S)``."""
    from marketsai.economy import load_economy
    from marketsai.params import validate_mapping
    from marketsai.rl.batched_dqn import SETTINGS, BatchedRun
    econ = load_economy(ROOT / "economies" / "bertrand_duopoly.yaml")
    runs = {(backend, S): BatchedRun(econ, validate_mapping({
        "periods": 10**9, "learning_starts": 100, "checkpoint_every": 0, "backend": backend}, SETTINGS, "", "s"),
        list(range(S))) for backend in ("torch", "rllib") for S in sizes}
    best = dict.fromkeys(runs, 0.0)
    for run in runs.values():
        run.advance(200)
    for _ in range(rounds):
        for S, run in runs.items():
            t = time.perf_counter()
            run.advance(run.periods + periods)
            best[S] = max(best[S], periods / (time.perf_counter() - t))
    return best


def update_table(algo: str, caption: str, best: dict, networks: str, learner: str) -> list[str]:
    """The lines of one algorithm's per-seed update table (rows: bare loop, RLlib per seed,
    batched S) after ``caption``."""
    names = {"bare": f"bare PyTorch loop, {networks}", "rllib per seed":
             f"RLlib {algo} learner, one algorithm per seed (its default module)",
             "rllib": f"RLlib {algo} batched (`{learner}`)"}
    bare = best[("bare", 1)]
    return ["", caption, "", f"| {algo} update | seeds S | per-seed updates / s | per-seed ms / update | "
            "ratio to bare loop |", "|---|---|---|---|---|",
            *[f"| {names[k]} | {S} | {r * S:,.0f} | {1e3 / (r * S):.2f} | {bare / (r * S):.2f} |"
              for (k, S), r in best.items()]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300, help="updates per timed window")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (best kept)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 4, 8, 16])
    parser.add_argument("--periods", type=int, default=200, help="end-to-end periods per window (0: skip)")
    parser.add_argument("--sac-updates", type=int, default=100, help="SAC updates per timed window (0: skip)")
    parser.add_argument("--ppo-updates", type=int, default=300, help="PPO minibatch updates per timed window (0: skip)")
    parser.add_argument("--sac-grid-updates", type=int, default=100,
                        help="SAC-on-the-grid updates per timed window (0: skip)")
    parser.add_argument("--rllib-steps", type=int, default=2000,
                        help="periods of RLlib's DQN algorithm's timed window (0: skip)")
    args, _ = parser.parse_known_args()
    torch = single_threaded()
    load0 = os.getloadavg()[0]
    fns = {("bare", 1): bare_loop(torch), ("rllib per seed", 1): rllib_per_seed()}
    fns |= {("rllib", S): rllib_batched(S) for S in args.sizes} | {("torch", S): batched(torch, S) for S in args.sizes}
    sac = {("bare", 1): sac_bare_loop(torch), ("rllib per seed", 1): sac_rllib_per_seed()}
    sac |= {("rllib", S): sac_rllib_batched(S) for S in args.sizes} if args.sac_updates else {}
    ppo = {("bare", 1): ppo_bare_loop(torch), ("rllib per seed", 1): ppo_rllib_per_seed()}
    ppo |= {("rllib", S): ppo_rllib_batched(S) for S in args.sizes} if args.ppo_updates else {}
    grid = {("bare", 1): sac_grid_bare_loop(torch), ("rllib per seed", 1): sac_rllib_per_seed(grid=True)}
    grid |= {("rllib", S): sac_grid_rllib_batched(S) for S in args.sizes} if args.sac_grid_updates else {}
    best, sac_best, ppo_best = dict.fromkeys(fns, 0.0), dict.fromkeys(sac, 0.0), dict.fromkeys(ppo, 0.0)
    grid_best = dict.fromkeys(grid, 0.0)
    for _ in range(args.rounds):
        for k, fn in fns.items():
            best[k] = max(best[k], rate(fn, args.updates))
        for k, fn in sac.items() if args.sac_updates else ():
            sac_best[k] = max(sac_best[k], rate(fn, args.sac_updates))
        for k, fn in ppo.items() if args.ppo_updates else ():
            ppo_best[k] = max(ppo_best[k], rate(fn, args.ppo_updates))
        for k, fn in grid.items() if args.sac_grid_updates else ():
            grid_best[k] = max(grid_best[k], rate(fn, args.sac_grid_updates))
    e2e = end_to_end((1, 8), args.periods, args.rounds) if args.periods else {}
    algo = rllib_algorithm_per_seed(args.rllib_steps) if args.rllib_steps else None
    load1 = os.getloadavg()[0]
    bare = best[("bare", 1)]
    names = {"bare": "bare PyTorch loop, 1 network", "rllib per seed": "RLlib DQN learner, one algorithm per seed",
             "rllib": "RLlib batched (`backend: rllib`)", "torch": "plain-torch batched (`backend: torch`)"}
    rows = []
    for (kind, S), r in best.items():
        per_seed = r * S
        rows.append([names[kind], S, f"{per_seed:,.0f}", f"{1e3 / per_seed:.2f}", f"{bare / per_seed:.2f}"])
    stamp = time.strftime("%Y-%m-%d", time.gmtime())
    lines = [f"# Seeds as a batch dimension: DQN, SAC and PPO per-seed update cost ({stamp})", "",
             f"Machine: {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; torch "
             f"{torch.__version__}, 1 thread; 1-minute load average {load0:.1f} at the start, {load1:.1f} at the end "
             "(2 cores: above 2, other jobs shared the machine). Command: `nice -n 5 python "
             f"benchmarks/bench_batched_seeds.py --updates {args.updates} --rounds {args.rounds} --sizes "
             f"{' '.join(map(str, args.sizes))} --periods {args.periods} --sac-updates {args.sac_updates} "
             f"--ppo-updates {args.ppo_updates} --sac-grid-updates {args.sac_grid_updates} "
             f"--rllib-steps {args.rllib_steps}`.", "",
             "| update | seeds S | per-seed updates / s | per-seed ms / update | ratio to bare loop |",
             "|---|---|---|---|---|", *["| " + " | ".join(str(c) for c in r) + " |" for r in rows], "",
             f"One update: obs {OBS} -> 64 -> 64 -> {ACT} ReLU, batch {BATCH}, double-Q Huber loss, Adam, "
             f"global-norm clipping (per seed in the batched rows). Best of {args.rounds} interleaved rounds of "
             f"{args.updates} updates on fixed batches. Goal (issue 20): ratio at S = 8 at most 2."]
    if e2e:
        lines += ["", "End to end, `dqn_batched` on the Calvano duopoly (2 firms, `policies: agent`: 2 S networks), "
                  "one session per seed, one update per period, environment and replay sampling included "
                  f"(best of {args.rounds} interleaved windows of {args.periods} periods):", "",
                  "| path | seeds S | periods (= updates) / s of each seed | seed-periods / s, all seeds | "
                  "ms per seed-period |", "|---|---|---|---|---|"]
        lines += [f"| {names[b]} | {S} | {r:,.0f} | {r * S:,.0f} | {1e3 / (r * S):.2f} |" for (b, S), r in e2e.items()]
        if algo is not None:
            lines += [f"| RLlib DQN algorithm, one per seed (per-agent path, RLlib's default dueling head) | 1 | "
                      f"{algo:,.0f} | {algo:,.0f} | {1e3 / algo:.2f} |"]
    if args.sac_updates:
        lines += update_table(
            "SAC", "SAC on the price interval, the same run: per-seed cost of one update (actor obs 2 -> 64 -> 64 -> 2, "
            "twin critics obs + action 3 -> 64 -> 64 -> 1, batch 64, RLlib's continuous loss with a learned "
            f"temperature, Adam 3e-4, polyak targets; best of {args.rounds} interleaved rounds of {args.sac_updates} "
            "updates on fixed batches):", sac_best, "1 actor + twin critics", "sac_batched")
    if args.ppo_updates:
        lines += update_table(
            "PPO", "PPO on the grid, the same run: per-seed cost of one minibatch update (policy obs 2 -> 64 -> 64 -> "
            f"{ACT}, value function obs 2 -> 64 -> 64 -> 1, minibatch {BATCH}, RLlib's loss without KL or entropy "
            f"terms, Adam 5e-5; best of {args.rounds} interleaved rounds of {args.ppo_updates} updates on fixed "
            "minibatches):", ppo_best, "1 policy + value function", "ppo_batched")
    if args.sac_grid_updates:
        lines += update_table(
            "SAC", "SAC on the price grid, the same run: per-seed cost of one update (actor obs 2 -> 64 -> 64 -> "
            f"{ACT}, twin critics obs 2 -> 64 -> 64 -> {ACT}, batch {BATCH}, RLlib's discrete loss with a learned "
            f"temperature (target entropy {GRID_TARGET_ENTROPY}), Adam 3e-4, polyak targets; best of {args.rounds} "
            f"interleaved rounds of {args.sac_grid_updates} updates on fixed batches):", grid_best,
            "1 actor + twin critics", "sac_batched")
    text = "\n".join(lines) + "\n"
    out = dated("batched_seeds")
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
