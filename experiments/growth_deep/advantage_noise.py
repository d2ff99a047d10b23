"""What limits a policy gradient's accuracy on Brock--Mirman: the noise of the return.

Why: stacked PPO stopped about 1 % above the optimal savings share alpha beta (results/
ppo_stacked_ablation.md). This script measures, without any learning, how well one batch
of planner-periods tells the direction to the optimum: sessions play the share
``alpha beta (1 + bias)`` plus Gaussian action noise of std ``sd`` (what a Gaussian policy
samples), their discounted returns over ``horizon`` periods are scored against a perfect
linear critic (least squares on log k and the TFP state, as a converged value function
would be), and the score-function gradient of the mean share, ``(a - mu) / sd^2 * A``, is
averaged over a batch of 200,000 periods, as ``ppo_stacked.yaml`` samples. Its
signal-to-noise ratio (the true gradient, from the one-period objective below, over the
spread of a batch mean) is reported with independent
shocks, with ``env.block_baseline`` alone (each row's reward minus the block's other
sessions' mean, :func:`marketsai.rl.stacked.block_relative`) and with it and
``env.common_shocks`` (the block's sessions on one TFP path). The economy is the file's own stacked env.

Also printed: the shift of the best *mean* share of a Gaussian policy of std ``sd`` away
from alpha beta (second order, from the one-period objective
``log(1 - s) + beta B log s``, ``B = alpha / (1 - alpha beta)``): the bias the policy's
noise alone would leave.

    python experiments/growth_deep/advantage_noise.py
"""

from __future__ import annotations

import numpy as np

import marketsai as mai
from marketsai.rl.stacked import block_relative

ECONOMY = "economies/brock_mirman_share.yaml"
BATCH = 200_000


def returns(econ, *, sessions, block, common, baseline, share, sd, periods, horizon, seed):
    """Discounted returns ``(periods, sessions)``, action noise, log k and TFP index at each start."""
    env = econ.stacked_env(sessions=sessions, max_cycles=periods + horizon, block=block, common_shocks=common)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed + 1)
    lo, hi = env.row_action_space.low[0], env.row_action_space.high[0]
    T = periods + horizon
    rew, noise, k_obs, z_obs = (np.empty((T, sessions)) for _ in range(4))
    for t in range(T):
        k_obs[t], z_obs[t] = obs[..., 0].ravel(), obs[..., 1].ravel()
        noise[t] = rng.normal(0.0, sd, sessions)
        a = np.clip(share + noise[t], lo, hi).reshape(env.num_envs, block)
        obs, _, _, _, info = env.step(a.astype(np.float32))
        rew[t] = info["rewards"].ravel()
    if baseline:  # each sub-environment's rows (its block of sessions) at each period
        rew = block_relative(rew.reshape(T * env.num_envs, block), block).reshape(T, sessions)
    disc = econ.discount ** np.arange(horizon)
    G = np.stack([disc @ rew[t:t + horizon] for t in range(periods)])
    return G, noise[:periods], k_obs[:periods], z_obs[:periods]


def gradient_snr(econ, *, bias, sd, common, baseline, sessions=1000, block=10, periods=200, horizon=150,
                 seed=0):
    """Per-sample gradient mean and spread of the mean share, and the SNR of a 200,000-period batch."""
    share = curvature()[0] * (1.0 + bias)
    G, e, k, z = returns(econ, sessions=sessions, block=block, common=common, baseline=baseline, share=share,
                         sd=sd, periods=periods, horizon=horizon, seed=seed)
    X = np.column_stack([np.ones(G.size), k.ravel(), z.ravel(), k.ravel() ** 2, z.ravel() ** 2, (k * z).ravel()])
    coef, *_ = np.linalg.lstsq(X, G.ravel(), rcond=None)
    A = G.ravel() - X @ coef
    g = e.ravel() / sd ** 2 * A
    s, f2, _ = curvature()
    return {"sd_A": float(A.std()), "grad_mean": float(g.mean()), "grad_true": f2 * bias * s,
            "grad_sd": float(g.std()), "snr_batch": float(abs(f2 * bias * s) / g.std() * np.sqrt(BATCH))}


def curvature(alpha: float = 0.36, beta: float = 0.95) -> tuple[float, float, float]:
    """alpha beta and the 2nd and 3rd derivatives of ``log(1 - s) + beta B log s`` there."""
    s, B = alpha * beta, alpha / (1 - alpha * beta)
    return s, -1 / (1 - s) ** 2 - beta * B / s ** 2, -2 / (1 - s) ** 3 + 2 * beta * B / s ** 3


def noise_bias(sd: float) -> float:
    """Relative shift of a Gaussian policy's best mean share from alpha beta (second order)."""
    s, f2, f3 = curvature()
    return -0.5 * sd ** 2 * f3 / f2 / s


def main():
    econ = mai.load_economy(ECONOMY)
    print("| bias | action sd | shocks | sd(A) | gradient: measured | true | per-sample sd | SNR of a batch |")
    print("|---|---|---|---|---|---|---|---|")
    for bias in (0.01, 0.003):
        for sd in (0.02, 0.0086):
            for common, baseline in ((False, False), (False, True), (True, True)):
                r = gradient_snr(econ, bias=bias, sd=sd, common=common, baseline=baseline)
                label = ("common" if common else "independent") + (" + block baseline" if baseline else "")
                print(f"| {bias:+.3f} | {sd} | {label} | "
                      f"{r['sd_A']:.4f} | {r['grad_mean']:+.4f} | {r['grad_true']:+.4f} | {r['grad_sd']:.2f} | "
                      f"{r['snr_batch']:.2f} |")
    print()
    for sd in (0.02, 0.0086, 0.003):
        print(f"action sd {sd}: the best mean share of the noisy policy is {100 * noise_bias(sd):+.3f} % off alpha beta")


if __name__ == "__main__":
    main()
