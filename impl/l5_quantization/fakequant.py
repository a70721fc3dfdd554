"""Fake quantization in PyTorch with a straight-through estimator, and quantization-aware training.

`fake_quant(x, scale, zero_point, ...)` computes `quantize.fake_quantize` in torch, bit for bit (float32
division, round half to even, clamp, multiply). Its gradient is the straight-through estimator: 1 where
x lies inside the representable range [(qmin - zp) scale, (qmax - zp) scale], 0 where it was clipped.
(`torch.ao.quantization` is deprecated. torchao's QAT wraps layers in its own fake-quantizers; the lesson
writes the quantizer out instead, so that it can be compared with the NumPy reference bit for bit and its
gradient checked directly.)

`LowBitMLP` wraps a trained `models.make_mlp` network: every Linear layer sees its input fake-quantized
to `act_bits` unsigned codes (range [0, a_max] calibrated once as the largest value on calibration
data, or given as saved from such a calibration) and its weight fake-quantized per output channel,
symmetric, to `weight_bits` signed codes (scale = max|w_row| / (2^(b-1) - 1), recomputed from the
current weights at every forward). Trained, it is QAT;
used as is, post-training quantization (PTQ) of the same grid.
"""
from __future__ import annotations

import numpy as np

from impl.checks import as_bool, as_float_array, as_instance, as_int, as_tensor
from impl.l5_quantization.quantize import MAX_BITS, MIN_BITS, qrange

__all__ = ["fake_quant", "LowBitMLP"]


def _torch():
    import torch

    return torch


def _ste_class():
    torch = _torch()

    class FakeQuantSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, zero_point, qmin, qmax):
            codes = torch.clamp(torch.round(x / scale) + zero_point, qmin, qmax)
            low, high = (qmin - zero_point) * scale, (qmax - zero_point) * scale
            ctx.save_for_backward((x >= low) & (x <= high))
            return (codes - zero_point) * scale

        @staticmethod
        def backward(ctx, grad):
            (inside,) = ctx.saved_tensors
            return grad * inside, None, None, None, None

    return FakeQuantSTE


_STE = None


def _as_tensor(value, name: str, torch):
    """A number, array or tensor as a tensor; text, None and booleans refused with the argument's name."""
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool:
            raise TypeError(f"{name} must be numbers, got a bool tensor")
        return value
    array = np.asarray(value) if value is not None and not isinstance(value, (str, bytes)) else None
    if array is None or array.dtype == object or array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be a number or a numeric array, got {type(value).__name__}")
    return torch.as_tensor(array)


def fake_quant(x, scale, zero_point=0, *, bits: int = 8, signed: bool = False, axis: int | None = None):
    """dequantize(quantize(x)) in torch with a straight-through gradient (see the module docstring).

    `scale` and `zero_point` are per tensor (numbers) or per channel along `axis` (1-D, float / int).
    """
    global _STE
    torch = _torch()
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}")
    if x.numel() == 0 or not bool(torch.isfinite(x).all()):
        raise ValueError("x must be non-empty and finite")
    qmin, qmax = qrange(bits, as_bool(signed, "signed"))
    scale = _as_tensor(scale, "scale", torch).to(x.dtype)
    zp = _as_tensor(zero_point, "zero_point", torch)
    if not scale.is_floating_point() and scale.dtype == torch.bool:
        raise TypeError("scale must be real numbers, got booleans")
    if zp.is_floating_point() or zp.dtype == torch.bool:
        raise TypeError(f"zero_point must be an integer or integer tensor, got {zp.dtype}")
    if scale.ndim > 1 or zp.ndim > 1 or not bool(torch.isfinite(scale).all()) or bool((scale <= 0).any()):
        raise ValueError("scale must be finite and > 0, one per tensor or one per channel (1-D)")
    if bool((zp < qmin).any()) or bool((zp > qmax).any()):
        raise ValueError(f"zero_point must lie in the code range {qmin}..{qmax}")
    if axis is not None:
        axis = as_int(axis, "axis", minimum=-x.ndim, maximum=x.ndim - 1) % x.ndim
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    elif scale.numel() != 1 or zp.numel() != 1:
        raise ValueError("per-channel scale/zero_point need an axis")
    _STE = _STE or _ste_class()
    return _STE.apply(x, scale.detach(), zp.to(x.dtype), float(qmin), float(qmax))


class LowBitMLP:
    """A `make_mlp` network run with fake-quantized weights and activations (see the module docstring).

    `module` is the torch module to call or train; the wrapped network's own weights are trained in place.
    """

    def __init__(self, mlp, calibration=None, *, weight_bits: int = 3, act_bits: int = 4, act_max=None):
        """Activation ranges come from `calibration` (float32 images, NCHW) or are given as `act_max`
        (one positive float per Linear layer, e.g. saved from an earlier calibration): exactly one of the two."""
        torch = _torch()
        as_instance(mlp, "mlp", torch.nn.Module)
        self.weight_bits = as_int(weight_bits, "weight_bits", minimum=MIN_BITS, maximum=MAX_BITS)
        self.act_bits = as_int(act_bits, "act_bits", minimum=MIN_BITS, maximum=MAX_BITS)
        self.linears = [m for m in mlp if isinstance(m, torch.nn.Linear)] if isinstance(mlp, torch.nn.Sequential) else []
        if not self.linears:
            raise ValueError("mlp must be a models.make_mlp network (a Sequential with Linear layers)")
        self.mlp = mlp
        if (calibration is None) == (act_max is None):
            raise ValueError("give exactly one of calibration and act_max")
        if calibration is not None:
            self.act_max = self._calibrate(as_tensor(calibration, "calibration", ndim=4, floating=True))
        else:
            if getattr(act_max, "dtype", None) in (np.bool_, torch.bool):
                raise TypeError("act_max must be real numbers, got booleans")
            act_max = as_float_array(act_max, "act_max", ndim=1)
            if len(act_max) != len(self.linears) or np.any(act_max <= 0):
                raise ValueError(f"act_max must hold {len(self.linears)} positive values, one per Linear layer")
            self.act_max = [float(v) for v in act_max]
        wrapper = self

        class Quantized(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = mlp

            def forward(self, x):
                return wrapper._forward(x)

        self.module = Quantized()

    def _inputs(self, x):
        """The input of every Linear layer in float, for calibration."""
        torch = _torch()
        seen = []
        hooks = [layer.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach())) for layer in self.linears]
        try:
            with torch.no_grad():
                self.mlp(x)
        finally:
            for hook in hooks:
                hook.remove()
        return seen

    def _calibrate(self, x) -> list[float]:
        maxima = [float(inputs.max()) for inputs in self._inputs(x)]
        if min(maxima) <= 0:
            raise ValueError("calibration gives a layer input with no positive value; its range would be empty")
        return maxima

    def quantized_weight(self, layer):
        """The layer's weight fake-quantized per output channel (symmetric, `weight_bits`)."""
        qmax = 2 ** (self.weight_bits - 1) - 1
        scale = layer.weight.detach().abs().amax(dim=1).clamp_min(1e-12) / qmax
        return fake_quant(layer.weight, scale, 0, bits=self.weight_bits, signed=True, axis=0)

    def _forward(self, x):
        torch = _torch()
        x = torch.flatten(x, 1)
        for i, layer in enumerate(self.linears):
            scale = self.act_max[i] / (2**self.act_bits - 1)
            x = fake_quant(x, scale, 0, bits=self.act_bits, signed=False)
            x = torch.nn.functional.linear(x, self.quantized_weight(layer), layer.bias)
            if i < len(self.linears) - 1:
                x = torch.relu(x)
        return x
