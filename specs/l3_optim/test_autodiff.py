import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impl.l3_optim import autodiff


def _rel(a, b, floor):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), floor))


@pytest.mark.cpu
@settings(max_examples=25)
@given(depth=st.integers(1, 3), width=st.integers(1, 8), num_inputs=st.integers(1, 4),
       n=st.integers(1, 6), seed=st.integers(0, 2**31 - 1))
def test_gradcheck(claim, depth, width, num_inputs, n, seed):
    """For any small tanh network (1-3 hidden layers of 1-8 units, float64), the parameter gradient
    of a squared-error loss from `jax.grad` and from `torch.autograd` each match central finite
    differences (h = 1e-6) to 1e-6 relative, match each other to 1e-10, and pass
    `torch.autograd.gradcheck`: automatic differentiation computes the true gradient.

    Relative errors divide by max(||gradient||, 1e-4) so a vanishing gradient does not blow them up.
    Course: Lesson 3, understanding optimization (how the gradient is obtained).
    """
    rng = np.random.default_rng(seed)
    net = autodiff.make_net(num_inputs, depth, width)
    theta = 0.7 * rng.standard_normal(net.num_params)
    X, t = rng.standard_normal((n, num_inputs)), rng.standard_normal(n)
    g_jax = autodiff.grad_jax(net, theta, X, t)
    g_torch = autodiff.grad_torch(net, theta, X, t)
    g_fd = autodiff.grad_central_difference(net, theta, X, t, h=claim.t["fd_step"])
    floor = claim.t["norm_floor"]
    for name, value, limit in [("jax_vs_fd", _rel(g_jax, g_fd, floor), "fd_rel_tol"),
                               ("torch_vs_fd", _rel(g_torch, g_fd, floor), "fd_rel_tol"),
                               ("jax_vs_torch", _rel(g_jax, g_torch, floor), "framework_rel_tol")]:
        claim.track_max(f"worst_{name}", value)
        claim.expect(name, value, "<=", limit)
    claim.expect("torch_gradcheck", autodiff.torch_gradcheck(net, theta, X, t), "==", True)
