"""Argument checks of ``pack_panels`` and ``packed_gemm`` (both backends call them).

A packed matrix B (k, n) is an array (ceil(n / 64), k, 64): ``panels_shape``.
"""

from __future__ import annotations

from minidl._kernels.checks import _array, _same_dtype, _separate, _shape

PANEL = 64  # columns of B per panel (MINIDL_PANEL in packed_gemm.h)


def panels_shape(k, n):
    """The shape of B (k, n) packed: ``(ceil(n / 64), k, 64)``."""
    return (-(-n // PANEL), k, PANEL)


def check_pack_panels(b, out, trans_b):
    kernel = "pack_panels"
    _array(kernel, "b", b, 2)
    _array(kernel, "out", out, 3, writeable=True)
    _same_dtype(kernel, b=b, out=out)
    k, n = b.shape[::-1] if trans_b else b.shape
    _shape(kernel, "out", out, panels_shape(k, n))
    _separate(kernel, {"out": out}, {"b": b})


def check_packed_gemm(a, packed, out, trans_a=False):
    kernel = "packed_gemm"
    _array(kernel, "a", a, 2)
    _array(kernel, "packed", packed, 3)
    _array(kernel, "out", out, 2, writeable=True)
    _same_dtype(kernel, a=a, packed=packed, out=out)
    m, k = a.shape[::-1] if trans_a else a.shape
    if packed.shape[1:] != (k, PANEL):
        given = f"a.T (a of shape {a.shape})" if trans_a else f"a of shape {a.shape}"
        raise ValueError(f"{kernel}: packed must be B ({k}, n) packed by pack_panels, of shape "
                         f"(panels, {k}, {PANEL}) for {given}; received {packed.shape}.")
    n = out.shape[1]
    _shape(kernel, "out", out, (m, n))
    if panels_shape(k, n)[0] != packed.shape[0]:
        raise ValueError(f"{kernel}: out has {n} columns, which need {panels_shape(k, n)[0]} "
                         f"panels of {PANEL}; packed has {packed.shape[0]} (shape "
                         f"{packed.shape}).")
    _separate(kernel, {"out": out}, {"a": a, "packed": packed})
