"""keras.ops (minidl.ops) against Keras 3: values, dtypes and shapes, gradients
against finite differences, errors, symbolic tensors, and keras.io's "Text
classification with Transformer" (Keras 3 version, with ops.shape / ops.arange).

KERAS3 holds, for each call, what Keras 3 returned: every call string was
evaluated as written in /work/tfvenv (keras 3.15.1, TensorFlow backend) with
``from keras import ops`` and the arrays X, A, B, I, C, T, P, IMG, K2 below, and its
result written down as (dtype, values) -- a tuple of ints for ``ops.shape``,
a tuple of results for ops returning several.  minidl must give the same
values and dtype, floats as a Tensor and integers/booleans as an EagerArray.
"""

import math

import numpy as np
import pytest

import minidl
from minidl import Tensor, keras, ops
from minidl.eager_array import EagerArray
from minidl.keras import layers
from minidl.testing import gradcheck

X = np.array([[1., 3, 2], [5, 0, 5]], "float32")
A = np.array([1., 2, 3], "float32")
B = np.array([3., 2, 1], "float32")
I = np.array([3, 1, 2])  # noqa: E741 (int64: integer inputs keep their dtype)
C = np.array([-1.5, -0.5, 0.5, 1.5, 2.5], "float32")
T = np.array([[0, 1, 0], [1, 0, 0]], "float32")
P = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]], "float32")
IMG = (np.arange(50, dtype="float32").reshape(1, 5, 5, 2) % 7) / 7  # (batch, 5, 5, channels)
K2 = (np.arange(12, dtype="float32").reshape(3, 2, 2, 1) % 5 - 2) / 4
K2 = np.concatenate([K2, -K2], -1)  # (3, 2, in 2, out 2)
nan = math.nan

KERAS3 = {
    'ops.arange(5)': ('int32', [0, 1, 2, 3, 4]),
    'ops.arange(0, 5)': ('int32', [0, 1, 2, 3, 4]),
    'ops.arange(start=0, stop=5, step=1)': ('int32', [0, 1, 2, 3, 4]),
    'ops.arange(0., 5)': ('float32', [0.0, 1.0, 2.0, 3.0, 4.0]),
    'ops.arange(0, 1, 0.25)': ('float32', [0.0, 0.25, 0.5, 0.75]),
    'ops.arange(2, -3, -1)': ('int32', [2, 1, 0, -1, -2]),
    "ops.arange(5, dtype='float32')": ('float32', [0.0, 1.0, 2.0, 3.0, 4.0]),
    'ops.arange(np.int64(3))': ('int64', [0, 1, 2]),
    "ops.arange(3, dtype='int64')": ('int64', [0, 1, 2]),
    'ops.expand_dims(X, -1)': ('float32', [[[1.0], [3.0], [2.0]], [[5.0], [0.0], [5.0]]]),
    'ops.expand_dims(X, (0, 3))': ('float32', [[[[1.0], [3.0], [2.0]], [[5.0], [0.0], [5.0]]]]),
    'ops.expand_dims(I, 0)': ('int64', [[3, 1, 2]]),
    "ops.squeeze(np.ones((1, 2, 1), 'float32'))": ('float32', [1.0, 1.0]),
    "ops.squeeze(np.ones((1, 2, 1), 'float32'), axis=0)": ('float32', [[1.0], [1.0]]),
    "ops.squeeze(np.ones((1, 2, 1), 'float32'), axis=(0, 2))": ('float32', [1.0, 1.0]),
    "ops.cast(np.array([1.7, -1.7]), 'int32')": ('int32', [1, -1]),
    "ops.cast(np.array([1.7, 0.]), 'bool')": ('bool', [True, False]),
    "ops.cast(np.array([1, 2]), 'float32')": ('float32', [1.0, 2.0]),
    "ops.cast(3.7, 'int32')": ('int32', 3),
    "ops.cast(X, 'float64')": ('float64', [[1.0, 3.0, 2.0], [5.0, 0.0, 5.0]]),
    'ops.convert_to_tensor([1, 2])': ('int32', [1, 2]),
    'ops.convert_to_tensor([1., 2.])': ('float32', [1.0, 2.0]),
    'ops.convert_to_tensor(np.array([1., 2.]))': ('float64', [1.0, 2.0]),
    'ops.convert_to_tensor(np.array([1, 2]))': ('int64', [1, 2]),
    'ops.convert_to_tensor(3)': ('int32', 3),
    'ops.convert_to_tensor(3.)': ('float32', 3.0),
    'ops.convert_to_tensor([True])': ('bool', [True]),
    "ops.convert_to_tensor([1, 2], dtype='float32')": ('float32', [1.0, 2.0]),
    "ops.convert_to_tensor(np.array([1., 2.]), dtype='int32')": ('int32', [1, 2]),
    'ops.ones((2,))': ('float32', [1.0, 1.0]),
    'ops.ones(3)': ('float32', [1.0, 1.0, 1.0]),
    "ops.zeros((2,), dtype='int32')": ('int32', [0, 0]),
    "ops.ones((2,), dtype='bool')": ('bool', [True, True]),
    'ops.ones_like(np.array([1, 2]))': ('int64', [1, 1]),
    'ops.ones_like(np.array([1., 2.]))': ('float64', [1.0, 1.0]),
    'ops.zeros_like([1., 2.])': ('float32', [0.0, 0.0]),
    'ops.zeros_like(3)': ('int32', 0),
    'ops.ones_like(np.array([True]))': ('bool', [True]),
    'ops.full((2,), 3)': ('float32', [3.0, 3.0]),
    'ops.full((2,), 3.5)': ('float32', [3.5, 3.5]),
    "ops.full((2,), 3, dtype='int32')": ('int32', [3, 3]),
    'ops.full((2, 2), np.array([1., 2.]))': ('float32', [[1.0, 2.0], [1.0, 2.0]]),
    "ops.full_like(np.ones(2, 'float32'), 3)": ('float32', [3.0, 3.0]),
    "ops.full_like(np.ones(2, 'int32'), 3.7)": ('int32', [3, 3]),
    'ops.full_like([1, 2], 0.5)': ('int32', [0, 0]),
    "ops.full_like(np.array([1., 2.]), 7, dtype='int64')": ('int64', [7, 7]),
    'ops.eye(2)': ('float32', [[1.0, 0.0], [0.0, 1.0]]),
    'ops.eye(2, 3, k=1)': ('float32', [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
    'ops.eye(3, k=-1)': ('float32', [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]),
    "ops.eye(2, dtype='int32')": ('int32', [[1, 0], [0, 1]]),
    'ops.argmax(X)': ('int32', 3),
    'ops.argmax(X, axis=-1)': ('int32', [1, 0]),
    'ops.argmax(X, axis=-1, keepdims=True)': ('int32', [[1], [0]]),
    'ops.argmax(X, keepdims=True)': ('int32', [[3]]),
    'ops.argmin(X, axis=0)': ('int32', [0, 1, 0]),
    'ops.square(np.array([1, 2]))': ('int64', [1, 4]),
    'ops.square(np.array([1., 2.]))': ('float64', [1.0, 4.0]),
    'ops.square(X)': ('float32', [[1.0, 9.0, 4.0], [25.0, 0.0, 25.0]]),
    'ops.power(np.array([1., 2.]), 2)': ('float64', [1.0, 4.0]),
    'ops.power(np.array([1, 2]), 2)': ('int64', [1, 4]),
    'ops.power(np.array([1, 4]), 0.5)': ('float32', [1.0, 2.0]),
    'ops.multiply(2, 3)': ('int32', 6),
    'ops.multiply(X, 2)': ('float32', [[2.0, 6.0, 4.0], [10.0, 0.0, 10.0]]),
    'ops.add([1, 2], [3, 4])': ('int32', [4, 6]),
    'ops.add(X, 1)': ('float32', [[2.0, 4.0, 3.0], [6.0, 1.0, 6.0]]),
    'ops.subtract(X, X[0])': ('float32', [[0.0, 0.0, 0.0], [4.0, -3.0, 3.0]]),
    'ops.divide(np.array([1, 2]), 2)': ('float32', [0.5, 1.0]),
    'ops.divide(1, 2)': ('float32', 0.5),
    'ops.divide(X, 4)': ('float32', [[0.25, 0.75, 0.5], [1.25, 0.0, 1.25]]),
    'ops.negative(np.array([1., 2.]))': ('float64', [-1.0, -2.0]),
    'ops.negative(X)': ('float32', [[-1.0, -3.0, -2.0], [-5.0, -0.0, -5.0]]),
    'ops.min(X, axis=(0, 1))': ('float32', 0.0),
    'ops.min(X, axis=0, keepdims=True)': ('float32', [[1.0, 0.0, 2.0]]),
    'ops.min(X, initial=-1)': ('float32', -1.0),
    'ops.max(X, axis=1, initial=3)': ('float32', [3.0, 5.0]),
    'ops.max(np.array([1, 2]))': ('int64', 2),
    'ops.max(X, axis=(-1, -2), keepdims=True)': ('float32', [[5.0]]),
    'ops.sum(np.array([1, 2]))': ('int64', 3),
    'ops.mean(np.array([1, 2]))': ('float32', 1.5),
    'ops.sum(X, axis=(-1, -2), keepdims=True)': ('float32', [[16.0]]),
    'ops.mean(X, axis=[0])': ('float32', [3.0, 1.5, 3.5]),
    'ops.sum(X, axis=0)': ('float32', [6.0, 3.0, 7.0]),
    'ops.std(X, axis=1)': ('float32', [0.81649661, 2.3570228]),
    'ops.std(X)': ('float32', 1.8856181),
    'ops.var(X)': ('float32', 3.5555556),
    'ops.var(X, axis=0, keepdims=True)': ('float32', [[4.0, 2.25, 2.25]]),
    'ops.equal(A, B)': ('bool', [False, True, False]),
    'ops.not_equal(A, B)': ('bool', [True, False, True]),
    'ops.less(A, B)': ('bool', [True, False, False]),
    'ops.less_equal(A, B)': ('bool', [True, True, False]),
    'ops.greater(A, B)': ('bool', [False, False, True]),
    'ops.greater_equal(A, B)': ('bool', [False, True, True]),
    'ops.equal(np.array([1, 2]), 2.0)': ('bool', [False, True]),
    'ops.logical_and([True, False], [True, True])': ('bool', [True, False]),
    'ops.logical_and(np.array([1., 0.]), np.array([2., 2.]))': ('bool', [True, False]),
    'ops.logical_or([True, False], [False, False])': ('bool', [True, False]),
    'ops.logical_not(np.array([1., 0.]))': ('bool', [False, True]),
    'ops.any(X > 4, axis=1)': ('bool', [False, True]),
    'ops.any(X, axis=0)': ('bool', [True, True, True]),
    'ops.all(X)': ('bool', False),
    'ops.all(X, axis=1, keepdims=True)': ('bool', [[True], [False]]),
    'ops.one_hot(np.array([0, 2, -1, 3]), 3)':
        ('float32', [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    'ops.one_hot(np.array([0, 2]), 3, axis=0)':
        ('float32', [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]),
    'ops.one_hot(np.array([0., 2.]), 3)': ('float32', [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    "ops.one_hot(np.array([0, 2]), 3, dtype='int32')": ('int32', [[1, 0, 0], [0, 0, 1]]),
    'ops.one_hot(np.array([[0, 1]]), 3, axis=1)':
        ('float32', [[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]),
    'ops.tile(A, 2)': ('float32', [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]),
    'ops.tile(X, (2, 1))':
        ('float32', [[1.0, 3.0, 2.0], [5.0, 0.0, 5.0], [1.0, 3.0, 2.0], [5.0, 0.0, 5.0]]),
    'ops.tile(A, (2, 1, 2))':
        ('float32', [[[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]]]),
    'ops.tile(I, 2)': ('int64', [3, 1, 2, 3, 1, 2]),
    'ops.repeat(X, 2)':
        ('float32', [1.0, 1.0, 3.0, 3.0, 2.0, 2.0, 5.0, 5.0, 0.0, 0.0, 5.0, 5.0]),
    'ops.repeat(X, 2, axis=0)':
        ('float32', [[1.0, 3.0, 2.0], [1.0, 3.0, 2.0], [5.0, 0.0, 5.0], [5.0, 0.0, 5.0]]),
    'ops.repeat(X, [1, 2, 0], axis=1)': ('float32', [[1.0, 3.0, 3.0], [5.0, 0.0, 0.0]]),
    'ops.split(A, 3)': (('float32', [1.0]), ('float32', [2.0]), ('float32', [3.0]),),
    'ops.split(np.arange(6.), [2, 3])':
        (('float64', [0.0, 1.0]), ('float64', [2.0]), ('float64', [3.0, 4.0, 5.0]),),
    'ops.split(X, 3, axis=1)':
        (('float32', [[1.0], [5.0]]), ('float32', [[3.0], [0.0]]), ('float32', [[2.0],
         [5.0]]),),
    'ops.take(X, [0, 4])': ('float32', [1.0, 0.0]),
    'ops.take(X, [2, 0, 2], axis=1)': ('float32', [[2.0, 1.0, 2.0], [5.0, 5.0, 5.0]]),
    'ops.take(X, [-1], axis=1)': ('float32', [[2.0], [5.0]]),
    'ops.take(X, np.array([[0, 1], [1, 1]]), axis=0)':
        ('float32', [[[1.0, 3.0, 2.0], [5.0, 0.0, 5.0]], [[5.0, 0.0, 5.0], [5.0, 0.0,
         5.0]]]),
    'ops.take_along_axis(X, np.array([[0], [2]]), axis=1)': ('float32', [[1.0], [5.0]]),
    'ops.take_along_axis(X, np.array([0, 5]), axis=None)': ('float32', [1.0, 5.0]),
    'ops.take_along_axis(X, np.array([[1, 0, 1]]), axis=0)': ('float32', [[5.0, 3.0, 5.0]]),
    'ops.top_k(X, 2)': (('float32', [[3.0, 2.0], [5.0, 5.0]]), ('int32', [[1, 2], [0, 2]]),),
    'ops.top_k(np.array([1., 3, 3, 2]), 3)':
        (('float64', [3.0, 3.0, 2.0]), ('int32', [1, 2, 3]),),
    'ops.top_k(np.array([1., 3, 5, 2]), 2, sorted=False)':
        (('float64', [3.0, 5.0]), ('int32', [1, 2]),),
    'ops.cumsum(X)': ('float32', [1.0, 4.0, 6.0, 11.0, 11.0, 16.0]),
    'ops.cumsum(X, axis=1)': ('float32', [[1.0, 4.0, 6.0], [5.0, 5.0, 10.0]]),
    'ops.cumsum(np.array([1, 2]))': ('int64', [1, 3]),
    'ops.cumsum(X, axis=0)': ('float32', [[1.0, 3.0, 2.0], [6.0, 3.0, 7.0]]),
    'ops.norm(X)': ('float32', 8.0),
    'ops.norm(X, axis=1)': ('float32', [3.7416575, 7.0710678]),
    'ops.norm(X, ord=1, axis=-1)': ('float32', [6.0, 10.0]),
    'ops.norm(X, ord=np.inf, axis=-1)': ('float32', [3.0, 5.0]),
    'ops.norm(X, ord=-np.inf, axis=-1)': ('float32', [1.0, 0.0]),
    "ops.norm(X, ord='fro')": ('float32', 8.0),
    'ops.norm(X, ord=1)': ('float32', 7.0),
    'ops.norm(X, ord=-1)': ('float32', 3.0),
    'ops.norm(X, ord=np.inf)': ('float32', 10.0),
    'ops.norm(X, axis=(0, 1), keepdims=True)': ('float32', [[8.0]]),
    'ops.norm(A, ord=3)': ('float32', 3.3019273),
    'ops.norm(A, ord=0)': ('float32', 3.0),
    'ops.norm(np.array([3, 4]))': ('float32', 5.0),
    "ops.norm(X, ord='nuc')": ('float32', 10.37251),
    'ops.norm(X, ord=2)': ('float32', 7.4451818),
    'ops.norm(X, ord=-2)': ('float32', 2.9273281),
    'ops.norm(X, keepdims=True)': ('float32', [[8.0]]),
    "ops.norm(np.ones((2, 2, 3), 'float32'), axis=(1, 2))": ('float32', [2.4494898, 2.4494898]),
    'ops.stop_gradient(X)': ('float32', [[1.0, 3.0, 2.0], [5.0, 0.0, 5.0]]),
    'ops.broadcast_to(A, (2, 3))': ('float32', [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]),
    'ops.broadcast_to(I, (2, 3))': ('int64', [[3, 1, 2], [3, 1, 2]]),
    'ops.triu(np.ones((3, 3)), 1)':
        ('float64', [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
    'ops.tril(np.ones((3, 3)), -1)':
        ('float64', [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]),
    'ops.tril(np.ones((2, 2, 3)))':
        ('float64', [[[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]], [[1.0, 0.0, 0.0], [1.0, 1.0,
         0.0]]]),
    'ops.triu(X)': ('float32', [[1.0, 3.0, 2.0], [0.0, 0.0, 5.0]]),
    'ops.pad(A, 1)': ('float32', [0.0, 1.0, 2.0, 3.0, 0.0]),
    'ops.pad(X, ((1, 0), (0, 2)), constant_values=9)':
        ('float32', [[9.0, 9.0, 9.0, 9.0, 9.0], [1.0, 3.0, 2.0, 9.0, 9.0], [5.0, 0.0, 5.0,
         9.0, 9.0]]),
    "ops.pad(X, ((0, 0), (1, 1)), mode='reflect')":
        ('float32', [[3.0, 1.0, 3.0, 2.0, 3.0], [0.0, 5.0, 0.0, 5.0, 0.0]]),
    "ops.pad(X, ((0, 0), (1, 1)), mode='symmetric')":
        ('float32', [[1.0, 1.0, 3.0, 2.0, 2.0], [5.0, 5.0, 0.0, 5.0, 5.0]]),
    'ops.flip(X)': ('float32', [[5.0, 0.0, 5.0], [2.0, 3.0, 1.0]]),
    'ops.flip(X, axis=1)': ('float32', [[2.0, 3.0, 1.0], [5.0, 0.0, 5.0]]),
    'ops.flip(X, axis=(0, 1))': ('float32', [[5.0, 0.0, 5.0], [2.0, 3.0, 1.0]]),
    'ops.roll(X, 1)': ('float32', [[5.0, 1.0, 3.0], [2.0, 5.0, 0.0]]),
    'ops.roll(X, -1, axis=1)': ('float32', [[3.0, 2.0, 1.0], [0.0, 5.0, 5.0]]),
    'ops.roll(X, (1, 1), axis=(0, 1))': ('float32', [[5.0, 5.0, 0.0], [2.0, 1.0, 3.0]]),
    'ops.sort(X)': ('float32', [[1.0, 2.0, 3.0], [0.0, 5.0, 5.0]]),
    'ops.sort(X, axis=0)': ('float32', [[1.0, 0.0, 2.0], [5.0, 3.0, 5.0]]),
    'ops.argsort(X)': ('int32', [[0, 2, 1], [1, 0, 2]]),
    'ops.argsort(np.array([3., 1, 3, 1]))': ('int32', [1, 3, 0, 2]),
    'ops.argsort(X, axis=None)': ('int32', [4, 0, 2, 1, 3, 5]),
    'ops.sort(I)': ('int64', [1, 2, 3]),
    'ops.log1p(C)': ('float32', [nan, -0.69314718, 0.4054651, 0.91629076, 1.252763]),
    'ops.expm1(C)': ('float32', [-0.77686983, -0.39346933, 0.64872128, 3.481689, 11.182494]),
    'ops.floor(C)': ('float32', [-2.0, -1.0, 0.0, 1.0, 2.0]),
    'ops.ceil(C)': ('float32', [-1.0, -0.0, 1.0, 2.0, 3.0]),
    'ops.round(C)': ('float32', [-2.0, -0.0, 0.0, 2.0, 2.0]),
    'ops.sign(C)': ('float32', [-1.0, -1.0, 1.0, 1.0, 1.0]),
    'ops.sin(C)': ('float32', [-0.997495, -0.47942555, 0.47942555, 0.997495, 0.59847212]),
    'ops.cos(C)': ('float32', [0.070737198, 0.87758255, 0.87758255, 0.070737198, -0.80114359]),
    'ops.erf(C)': ('float32', [-0.9661051, -0.52049989, 0.52049989, 0.9661051, 0.99959296]),
    'ops.silu(C)': ('float32', [-0.27363828, -0.18877034, 0.31122968, 1.2263618, 2.3103545]),
    'ops.relu6(C * 3)': ('float32', [0.0, 0.0, 1.5, 4.5, 6.0]),
    'ops.log_sigmoid(C)':
        ('float32', [-1.7014133, -0.97407699, -0.47407699, -0.20141329, -0.078889735]),
    "ops.round(np.array([1.234, 5.678], 'float32'), 1)": ('float32', [1.2, 5.6999998]),
    'ops.round(np.array([1, 2]))': ('int64', [1, 2]),
    'ops.floor(np.array([1, 2]))': ('float32', [1.0, 2.0]),
    'ops.sign(np.array([-3, 2]))': ('int64', [-1, 1]),
    'ops.sin(np.array([0, 1]))': ('float32', [0.0, 0.84147096]),
    'ops.log1p(np.array([0, 1]))': ('float32', [0.0, 0.69314718]),
    'ops.moments(X, axes=[0])': (('float32', [3.0, 1.5, 3.5]), ('float32', [4.0, 2.25, 2.25]),),
    'ops.moments(X, axes=(0, 1), keepdims=True)':
        (('float32', [[2.6666667]]), ('float32', [[3.5555556]]),),
    'ops.moments(X, axes=-1)':
        (('float32', [2.0, 3.3333333]), ('float32', [0.66666669, 5.5555558]),),
    'ops.categorical_crossentropy(T, P)': ('float32', [0.35667497, 0.69314718]),
    'ops.categorical_crossentropy(T, P, from_logits=True)':
        ('float32', [0.76794958, 0.93983108]),
    'ops.categorical_crossentropy(T, P * 2)': ('float32', [0.35667497, 0.69314718]),
    'ops.categorical_crossentropy(T.T, P.T, axis=0)': ('float32', [0.35667497, 0.69314718]),
    'ops.sparse_categorical_crossentropy(np.array([1, 0]), P)':
        ('float32', [0.35667497, 0.69314712]),
    'ops.sparse_categorical_crossentropy(np.array([1, 0]), P, from_logits=True)':
        ('float32', [0.76794958, 0.93983108]),
    'ops.sparse_categorical_crossentropy(np.array([1., 0.]), P)':
        ('float32', [0.35667497, 0.69314712]),
    'ops.sparse_categorical_crossentropy(np.array([[1], [0]]), P)':
        ('float32', [0.35667497, 0.69314712]),
    'ops.binary_crossentropy(T, P)':
        ('float32', [[0.22314353, 0.35667497, 0.10536055], [0.69314718, 0.35667497,
         0.22314353]]),
    'ops.binary_crossentropy(T, P, from_logits=True)':
        ('float32', [[0.79813886, 0.40318605, 0.74439669], [0.47407699, 0.85435528,
         0.79813886]]),
    'ops.binary_crossentropy(np.array([1., 0.]), np.array([1., 0.]))':
        ('float64', [1e-07, 1e-07]),
    'ops.slice(X, (0, 1), (2, 2))': ('float32', [[3.0, 2.0], [0.0, 5.0]]),
    'ops.slice(X, (0, 1), (-1, 2))': ('float32', [[3.0, 2.0], [0.0, 5.0]]),
    'ops.slice(X, (1, 0), (1, -1))': ('float32', [[5.0, 0.0, 5.0]]),
    'ops.dot(np.array([1., 2.]), np.array([3., 4.]))': ('float64', 11.0),
    'ops.dot(X, X.T)': ('float32', [[14.0, 15.0], [15.0, 50.0]]),
    'ops.dot(np.ones((2, 3, 4)), np.arange(4.))':
        ('float64', [[6.0, 6.0, 6.0], [6.0, 6.0, 6.0]]),
    'ops.dot(2., X)': ('float32', [[2.0, 6.0, 4.0], [10.0, 0.0, 10.0]]),
    'ops.ravel(X)': ('float32', [1.0, 3.0, 2.0, 5.0, 0.0, 5.0]),
    'ops.linspace(0, 1, 5)': ('float32', [0.0, 0.25, 0.5, 0.75, 1.0]),
    'ops.linspace(0, 1, 4, endpoint=False)': ('float32', [0.0, 0.25, 0.5, 0.75]),
    'ops.linspace(0, 1, 5, retstep=True)':
        (('float32', [0.0, 0.25, 0.5, 0.75, 1.0]), ('float32', 0.25),),
    "ops.linspace(0, 10, 5, dtype='int32')": ('int32', [0, 2, 5, 7, 10]),
    'ops.linspace(np.array([0., 1.]), np.array([1., 3.]), 3, axis=1)':
        ('float64', [[0.0, 0.5, 1.0], [1.0, 2.0, 3.0]]),
    'ops.isnan(np.array([np.nan, 1., np.inf]))': ('bool', [True, False, False]),
    'ops.isfinite(np.array([np.nan, 1., np.inf]))': ('bool', [False, True, False]),
    'ops.isnan(np.array([1, 2]))': ('bool', [False, False]),
    "ops.nan_to_num(np.array([np.nan, 1., np.inf, -np.inf], 'float32'))":
        ('float32', [0.0, 1.0, 3.4028235e+38, -3.4028235e+38]),
    "ops.nan_to_num(np.array([np.nan, 1., np.inf, -np.inf], 'float32'), nan=5., posinf=9., neginf=-9.)":
        ('float32', [5.0, 1.0, 9.0, -9.0]),
    'ops.mod(np.array([5., -5, 5.5]), 3)': ('float64', [2.0, 1.0, 2.5]),
    'ops.mod(np.array([5, -5]), 3)': ('int64', [2, 1]),
    'ops.mod(np.array([5., -5]), -3.)': ('float64', [-1.0, -2.0]),
    'ops.floor_divide(np.array([5., -5, 5.5]), 3)': ('float64', [1.0, -2.0, 1.0]),
    'ops.floor_divide(np.array([5, -5]), 3)': ('int64', [1, -2]),
    'ops.segment_sum(np.array([1., 2, 3, 4]), np.array([0, 0, 2, 1]))':
        ('float64', [3.0, 4.0, 3.0]),
    'ops.segment_sum(np.array([[1., 2], [3, 4]]), np.array([1, 1]), num_segments=3)':
        ('float64', [[0.0, 0.0], [4.0, 6.0], [0.0, 0.0]]),
    'ops.segment_sum(np.array([1., 2]), np.array([0, -1]), num_segments=2)':
        ('float64', [1.0, 0.0]),
    'ops.shape(X)': (2, 3),
    'ops.shape(3)': (),
    'ops.shape([[1, 2, 3]])': (1, 3),
    'ops.shape(ops.ones((2, 3)))': (2, 3),
    'ops.arange(ops.shape(X)[-1])': ('int32', [0, 1, 2]),
    'ops.convert_to_numpy(ops.ones(2))': ('float32', [1.0, 1.0]),
    'ops.convert_to_numpy(3)': ('int64', 3),
    'ops.expand_dims(ops.arange(3), 0)': ('int32', [[0, 1, 2]]),
    'ops.reshape(I, (3, 1))': ('int64', [[3], [1], [2]]),
    'ops.transpose(I[None])': ('int64', [[3], [1], [2]]),
    'ops.abs(np.array([-2, 3]))': ('int64', [2, 3]),
    'ops.clip(X, 1, 4)': ('float32', [[1.0, 3.0, 2.0], [4.0, 1.0, 4.0]]),
    'ops.sqrt(np.array([4, 9]))': ('float32', [2.0, 3.0]),
    'ops.conv(IMG, K2)':
        ('float32', [[[[-0.10714287, 0.10714287], [-0.3214286, 0.3214286], [-0.78571427,
         0.78571427], [2.9802322e-08, -2.9802322e-08]], [[0.071428537, -0.071428537],
         [-0.64285719, 0.64285719], [-0.10714287, 0.10714287], [-0.3214286, 0.3214286]],
         [[2.9802322e-08, -2.9802322e-08], [-0.46428573, 0.46428573], [0.071428537,
         -0.071428537], [-0.64285719, 0.64285719]]]]),
    "ops.conv(IMG, K2, strides=2, padding='same')":
        ('float32', [[[[-0.3214286, 0.3214286], [-0.46428573, 0.46428573], [0.42857146,
         -0.42857146]], [[0.071428537, -0.071428537], [-0.10714287, 0.10714287],
         [-0.14285713, 0.14285713]], [[-0.14285715, 0.14285715], [-0.57142854, 0.57142854],
         [0.071428567, -0.071428567]]]]),
    'ops.conv(IMG, K2, dilation_rate=2)':
        ('float32', [[[[0.8214286, -0.8214286], [-0.89285713, 0.89285713], [-0.60714287,
         0.60714287]]]]),
    "ops.conv(IMG, K2[:, :, :1, :], padding='same')":
        ('float32', [[[[-0.32142857, 0.32142854], [0.17857143, -0.17857142], [-0.071428567,
         -0.17857143], [0.1785714, 0.32142857], [0.21428573, -0.3214286]], [[0.17857142,
         0.14285713], [0.035714284, 0.035714313], [-0.60714287, 0.6785714], [-0.25,
         -0.17857142], [0.21428573, -0.25]], [[-0.035714313, 0.60714287], [-0.6785714,
         0.25], [0.17857142, 0.14285713], [0.035714284, 0.035714313], [-0.17857143,
         0.14285715]], [[-0.25, -0.17857142], [-0.14285713, -0.035714284], [-0.035714313,
         0.60714287], [-0.6785714, 0.25], [0.42857143, -0.21428573]], [[0.21428572,
         -0.17857142], [-0.35714287, 0.39285713], [-0.42857143, -0.035714284],
         [7.4505806e-09, -0.21428572], [0.21428572, 0.2857143]]]]),
    'ops.conv(IMG[:, 0], K2[0])':
        ('float32', [[[0.071428567, -0.071428567], [-0.071428575, 0.071428575],
         [-0.46428573, 0.46428573], [-0.35714287, 0.35714287]]]),
    'ops.conv(np.stack([IMG, IMG], 1), np.stack([K2, K2]) / 2)':
        ('float32', [[[[[-0.10714288, 0.10714288], [-0.32142857, 0.32142857], [-0.78571439,
         0.78571439], [0.0, 0.0]], [[0.071428567, -0.071428567], [-0.64285719, 0.64285719],
         [-0.10714288, 0.10714288], [-0.32142857, 0.32142857]], [[0.0, 0.0], [-0.4642857,
         0.4642857], [0.071428567, -0.071428567], [-0.64285719, 0.64285719]]]]]),
    'ops.conv_transpose(IMG, np.transpose(K2, (0, 1, 3, 2)), strides=2)':
        ('float32', [[[[-0.035714287, 0.035714287], [0.035714287, -0.035714287], [-0.25,
         0.25], [0.10714286, -0.10714286], [-0.46428573, 0.46428573], [0.17857143,
         -0.17857143], [-0.42857143, 0.42857143], [0.0, 0.0], [-0.14285715, 0.14285715],
         [0.071428575, -0.071428575]], [[-0.071428575, 0.071428575], [0.0, 0.0],
         [-0.071428567, 0.071428567], [-0.071428575, 0.071428575], [-0.071428567,
         0.071428567], [-0.14285715, 0.14285715], [0.42857143, -0.42857143], [-0.21428572,
         0.21428572], [-0.071428575, 0.071428575], [-0.035714287, 0.035714287]],
         [[-0.2857143, 0.2857143], [0.10714287, -0.10714287], [-0.2857143, 0.2857143],
         [-0.035714284, 0.035714284], [0.4642857, -0.4642857], [-0.42857143, 0.42857143],
         [-0.035714284, 0.035714284], [-0.32142857, 0.32142857], [-0.2857143, 0.2857143],
         [0.035714284, -0.035714284]], [[-0.071428582, 0.071428582], [-0.10714286,
         0.10714286], [-0.071428567, 0.071428567], [-0.17857143, 0.17857143], [-0.071428575,
         0.071428575], [0.0, 0.0], [-0.071428567, 0.071428567], [-0.071428575, 0.071428575],
         [-0.071428567, 0.071428567], [-0.14285715, 0.14285715]], [[-0.035714269,
         0.035714269], [-0.35714287, 0.35714287], [0.46428573, -0.46428573], [-0.5, 0.5],
         [-0.2857143, 0.2857143], [0.10714287, -0.10714287], [-0.2857143, 0.2857143],
         [-0.035714284, 0.035714284], [0.4642857, -0.4642857], [-0.42857143, 0.42857143]],
         [[0.42857143, -0.42857143], [-0.21428572, 0.21428572], [-0.071428575, 0.071428575],
         [-0.035714287, 0.035714287], [-0.071428582, 0.071428582], [-0.10714286,
         0.10714286], [-0.071428567, 0.071428567], [-0.17857143, 0.17857143], [-0.071428575,
         0.071428575], [0.0, 0.0]], [[-0.035714284, 0.035714284], [-0.32142857, 0.32142857],
         [-0.2857143, 0.2857143], [0.035714284, -0.035714284], [-0.035714269, 0.035714269],
         [-0.35714287, 0.35714287], [0.46428573, -0.46428573], [-0.5, 0.5], [-0.2857143,
         0.2857143], [0.10714287, -0.10714287]], [[-0.071428567, 0.071428567],
         [-0.071428575, 0.071428575], [-0.071428567, 0.071428567], [-0.14285715,
         0.14285715], [0.42857143, -0.42857143], [-0.21428572, 0.21428572], [-0.071428575,
         0.071428575], [-0.035714287, 0.035714287], [-0.071428582, 0.071428582],
         [-0.10714286, 0.10714286]], [[-0.2857143, 0.2857143], [-0.035714284, 0.035714284],
         [0.4642857, -0.4642857], [-0.42857143, 0.42857143], [-0.035714284, 0.035714284],
         [-0.32142857, 0.32142857], [-0.2857143, 0.2857143], [0.035714284, -0.035714284],
         [-0.035714269, 0.035714269], [-0.35714287, 0.35714287]], [[-0.071428567,
         0.071428567], [-0.17857143, 0.17857143], [-0.071428575, 0.071428575], [0.0, 0.0],
         [-0.071428567, 0.071428567], [-0.071428575, 0.071428575], [-0.071428567,
         0.071428567], [-0.14285715, 0.14285715], [0.42857143, -0.42857143], [-0.21428572,
         0.21428572]], [[0.60714287, -0.60714287], [-0.5714286, 0.5714286], [0.071428575,
         -0.071428575], [-0.035714287, 0.035714287], [0.2857143, -0.2857143], [-0.25, 0.25],
         [0.5, -0.5], [-0.46428573, 0.46428573], [0.21428572, -0.21428572], [-0.42857143,
         0.42857143]]]]),
    "ops.conv_transpose(IMG[:, 0], np.transpose(K2[0], (0, 2, 1)), strides=2, padding='same')":
        ('float32', [[[-0.035714287, 0.035714287], [0.035714287, -0.035714287], [-0.25,
         0.25], [0.10714286, -0.10714286], [-0.46428573, 0.46428573], [0.17857143,
         -0.17857143], [-0.42857143, 0.42857143], [0.0, 0.0], [-0.14285715, 0.14285715],
         [0.071428575, -0.071428575]]]),
    'ops.depthwise_conv(IMG, K2[..., :1])':
        ('float32', [[[[0.17857143, -0.2857143], [0.035714284, -0.35714287], [-0.60714287,
         -0.17857142], [-0.24999997, 0.25]], [[-0.035714298, 0.10714284], [-0.67857146,
         0.035714269], [0.17857143, -0.2857143], [0.035714284, -0.35714287]], [[-0.24999997,
         0.25], [-0.14285713, -0.3214286], [-0.035714298, 0.10714284], [-0.67857146,
         0.035714269]]]]),
    "ops.depthwise_conv(IMG[:, 0], K2[0], padding='same')":
        ('float32', [[[0.0, 0.0, 0.071428567, -0.071428567], [-0.14285715, 0.14285715,
         0.071428575, -0.071428575], [-0.2857143, 0.2857143, -0.17857143, 0.17857143],
         [-0.42857143, 0.42857143, 0.071428575, -0.071428575], [-0.071428575, 0.071428575,
         -0.071428575, 0.071428575]]]),
}


def check_result(result, expected, call):
    """``result`` is what Keras gave: a shape tuple, a tuple of results, or (dtype, values)."""
    if isinstance(expected, tuple) and all(isinstance(e, int) for e in expected):
        assert result == expected and all(type(size) is int for size in result), call
        return
    if isinstance(expected[0], tuple):
        assert isinstance(result, (tuple, list)) and len(result) == len(expected), call
        for part, wanted in zip(result, expected):
            check_result(part, wanted, call)
        return
    dtype, values = expected
    if call.startswith("ops.convert_to_numpy"):
        assert type(result) is np.ndarray, call
        array = result
    elif dtype.startswith("float"):
        assert isinstance(result, Tensor), f"{call}: expected a Tensor, got {type(result)}"
        array = result.data
    else:
        assert isinstance(result, EagerArray), f"{call}: expected an EagerArray, got {type(result)}"
        array = result.numpy()
    assert array.dtype == np.dtype(dtype), f"{call}: dtype {array.dtype}, Keras 3 gives {dtype}"
    wanted = np.array(values, dtype=dtype)
    assert array.shape == wanted.shape, f"{call}: shape {array.shape}, Keras 3 gives {wanted.shape}"
    np.testing.assert_allclose(array, wanted, rtol=2e-6, atol=1e-7, err_msg=call)


def test_conv_channels_first_is_channels_last_transposed():
    # (Keras 3's TensorFlow backend cannot run a channels-first Conv2D on a CPU; its other
    # backends transpose, as minidl does)
    first = ops.conv(np.transpose(IMG, (0, 3, 1, 2)), K2, data_format="channels_first")
    np.testing.assert_allclose(first.data, np.transpose(ops.conv(IMG, K2).data, (0, 3, 1, 2)))


@pytest.mark.parametrize("call", sorted(KERAS3))
def test_same_result_as_keras3(call):
    with np.errstate(invalid="ignore"):  # log1p(-1.5) is NaN in both, without a warning in Keras
        result = eval(call)
    check_result(result, KERAS3[call], call)


# --- gradients: backward against central differences, in float64 --------------------
rng = np.random.default_rng(7)


def spread(*shape, low=-2.0, high=2.0, gap=0.05):
    """float64 values at least ``gap`` apart (no ties for max/sort, no kinks at 0)."""
    count = math.prod(shape)
    values = np.linspace(low, high, count) + rng.uniform(0, gap / 4, count)
    return rng.permutation(values).reshape(shape)


M = spread(3, 4)
V = spread(5)
GRADIENTS = {
    "square": (lambda x: ops.square(x), [M]),
    "power": (lambda x, y: ops.power(x, y), [spread(3, 4, low=0.5, high=2), spread(4)]),
    "multiply / add / subtract": (lambda x, y: ops.subtract(ops.add(ops.multiply(x, y), x), y),
                                  [M, spread(4)]),
    "divide / negative": (lambda x, y: ops.negative(ops.divide(x, y)),
                          [M, spread(4, low=0.5, high=2)]),
    "min axis tuple": (lambda x: ops.min(x, axis=(0, 1), keepdims=True), [spread(2, 3, 2)]),
    "max initial": (lambda x: ops.max(x, axis=1, initial=0.1), [M]),
    "sum / mean axis tuple": (lambda x: ops.sum(ops.mean(x, axis=(0, 2), keepdims=True), -1),
                              [spread(2, 3, 2)]),
    "std": (lambda x: ops.std(x, axis=-1), [M]),
    "var": (lambda x: ops.var(x, axis=0, keepdims=True), [M]),
    "moments": (lambda x: ops.add(*ops.moments(x, axes=[0])), [M]),
    "expand_dims / squeeze / ravel": (
        lambda x: ops.ravel(ops.squeeze(ops.expand_dims(x, (0, 2)), 0)), [M]),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (2, 3, 4)), [spread(3, 1)]),
    "tile": (lambda x: ops.tile(x, (2, 1, 3)), [spread(2, 3)]),
    "repeat": (lambda x: ops.repeat(x, [2, 0, 1, 3], axis=1), [M]),
    "repeat flat": (lambda x: ops.repeat(x, 2), [M]),
    "split": (lambda x: ops.multiply(*ops.split(x, [1, 3], axis=1)[::2]), [spread(3, 4)]),
    "take": (lambda x: ops.take(x, np.array([[0, 3], [3, -1]]), axis=1), [M]),
    "take flat": (lambda x: ops.take(x, [5, 5, 0]), [M]),
    "take_along_axis": (lambda x: ops.take_along_axis(x, np.array([[1, 1], [0, 2], [3, 0]]), 1),
                        [M]),
    "top_k": (lambda x: ops.top_k(x, 2)[0], [M]),
    "sort": (lambda x: ops.sort(x, axis=0), [M]),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), [M]),
    "cumsum flat": (lambda x: ops.cumsum(x), [M]),
    "norm": (lambda x: ops.norm(x), [M]),
    "norm axis": (lambda x: ops.norm(x, axis=0, keepdims=True), [M]),
    "norm ord 1": (lambda x: ops.norm(x, ord=1, axis=1), [M]),
    "norm ord inf": (lambda x: ops.norm(x, ord=np.inf, axis=1), [M]),
    "norm ord 3": (lambda x: ops.norm(x, ord=3, axis=1), [M]),
    "norm fro": (lambda x: ops.norm(x, ord="fro"), [M]),
    "norm nuc": (lambda x: ops.norm(x, ord="nuc"), [M]),
    "norm 2": (lambda x: ops.norm(x, ord=2), [M]),
    "norm -2 batch": (lambda x: ops.norm(x, ord=-2, axis=(2, 1)), [spread(2, 3, 4)]),
    "norm matrix 1": (lambda x: ops.norm(x, ord=1, axis=(0, 1)), [M]),
    "norm matrix -inf": (lambda x: ops.norm(x, ord=-np.inf, axis=(0, 1), keepdims=True), [M]),
    "triu": (lambda x: ops.triu(x, 1), [spread(2, 3, 3)]),
    "tril": (lambda x: ops.tril(x, -1), [M]),
    "pad constant": (lambda x: ops.pad(x, ((1, 0), (2, 1)), constant_values=3.0), [M]),
    "pad reflect": (lambda x: ops.pad(x, ((2, 1), (1, 3)), mode="reflect"), [M]),
    "pad symmetric": (lambda x: ops.pad(x, 2, mode="symmetric"), [M]),
    "pad edge / wrap": (lambda x: ops.pad(ops.pad(x, 1, mode="edge"), 2, mode="wrap"), [M]),
    "flip": (lambda x: ops.flip(x, axis=1), [M]),
    "roll": (lambda x: ops.roll(x, (1, -2), axis=(0, 1)), [M]),
    "roll flat": (lambda x: ops.roll(x, 5), [M]),
    "log1p": (lambda x: ops.log1p(x), [spread(3, 4, low=-0.5, high=2)]),
    "expm1": (lambda x: ops.expm1(x), [M]),
    "sin / cos": (lambda x: ops.multiply(ops.sin(x), ops.cos(x)), [M]),
    "erf": (lambda x: ops.erf(x), [M]),
    "silu": (lambda x: ops.silu(x), [M]),
    "relu6": (lambda x: ops.relu6(x), [spread(3, 4, low=-3, high=9, gap=0.5)]),
    "log_sigmoid": (lambda x: ops.log_sigmoid(x), [spread(3, 4, low=-30, high=30)]),
    "nan_to_num": (lambda x: ops.nan_to_num(x), [M]),
    "mod": (lambda x, y: ops.mod(x, y), [spread(3, 4, low=0.1, high=0.9), spread(4, low=1, high=2)]),
    "floor / ceil / round / sign / floor_divide": (
        lambda x: ops.add(ops.add(ops.floor(x), ops.ceil(x)),
                          ops.add(ops.round(x), ops.add(ops.sign(x), ops.floor_divide(x, 0.7)))),
        [spread(3, 4, low=0.1, high=0.6, gap=0.01)]),
    "slice": (lambda x: ops.slice(x, (1, 0), (2, -1)), [M]),
    "dot vectors": (lambda x, y: ops.dot(x, y), [V, spread(5)]),
    "dot matrix vector": (lambda x, y: ops.dot(x, y), [M, spread(4)]),
    "dot vector matrix": (lambda x, y: ops.dot(x, y), [spread(3), M]),
    "dot nd": (lambda x, y: ops.dot(x, y), [spread(2, 3), spread(2, 3, 2)]),
    "dot scalar": (lambda x, y: ops.dot(x, y), [np.array(1.5), M]),
    "conv channels_first, 2 groups": (
        lambda x, w: ops.conv(x, w, padding="same", data_format="channels_first"),
        [spread(1, 2, 4, 3), spread(2, 2, 1, 2)]),
    "conv_transpose 1-D": (lambda x, w: ops.conv_transpose(x, w, strides=2),
                           [spread(1, 3, 2), spread(2, 3, 2)]),
    "depthwise_conv 1-D": (lambda x, w: ops.depthwise_conv(x, w, padding="same"),
                           [spread(1, 4, 2), spread(3, 2, 2)]),
    "segment_sum": (lambda x: ops.segment_sum(x, np.array([2, 0, -1]), num_segments=4), [M]),
    "categorical_crossentropy": (
        lambda t, p: ops.categorical_crossentropy(t, p), [spread(3, 4), spread(3, 4, low=0.1, high=1)]),
    "categorical_crossentropy logits axis 0": (
        lambda t, p: ops.categorical_crossentropy(t, p, from_logits=True, axis=0), [M, spread(3, 4)]),
    "sparse_categorical_crossentropy": (
        lambda p: ops.sparse_categorical_crossentropy(np.array([0, 3, 1]), p),
        [spread(3, 4, low=0.1, high=0.9)]),
    "sparse_categorical_crossentropy logits": (
        lambda p: ops.sparse_categorical_crossentropy(np.array([[2], [0], [1]]), p, from_logits=True),
        [M]),
    "binary_crossentropy": (lambda t, p: ops.binary_crossentropy(t, p),
                            [spread(3, 4), spread(3, 4, low=0.1, high=0.9)]),
    "binary_crossentropy logits": (lambda t, p: ops.binary_crossentropy(t, p, from_logits=True),
                                   [spread(3, 4), M]),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradient(name):
    function, inputs = GRADIENTS[name]
    gradcheck(function, inputs)


def test_cast_between_floats_passes_the_gradient_back_in_the_input_dtype():
    x = Tensor(np.array([0.5, -2.0]), requires_grad=True)
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32
    ops.sum(ops.multiply(y, np.array([3.0, 4.0], "float32"))).backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_stop_gradient_stops_it():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.add(ops.multiply(x, x), ops.stop_gradient(ops.multiply(x, x)))
    ops.sum(y).backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_step_functions_send_back_zero():
    x = Tensor(np.array([0.3, 1.7]), requires_grad=True)
    ops.sum(ops.add(ops.floor(x), ops.round(x))).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_float32_stays_float32():
    x = Tensor(X)
    for result in (ops.square(x), ops.erf(x), ops.tile(x, 2), ops.pad(x, 1), ops.norm(x, ord="nuc"),
                   ops.cumsum(x), ops.std(x), ops.take(x, [1]), ops.sort(x), ops.dot(x, x.T)):
        assert result.dtype == np.float32


# --- errors: a bad axis or shape is a ValueError naming the op and the shapes ----------
@pytest.mark.parametrize("call, error, words", [
    ("ops.expand_dims(X, 5)", ValueError, "expand_dims.*(2, 3)"),
    ("ops.expand_dims(I.reshape(3, 1), 5)", ValueError, "expand_dims.*(3, 1)"),
    ("ops.squeeze(np.ones((1, 2, 1)), 1)", ValueError, "squeeze.*axis 1.*(1, 2, 1)"),
    ("ops.argmax(X, axis=2)", ValueError, "argmax: axis 2.*(2, 3)"),
    ("ops.sum(X, axis=3)", ValueError, "sum.*(2, 3)"),
    ("ops.min(X, axis=(0, 2))", ValueError, "min.*(2, 3)"),
    ("ops.any(X, axis=4)", ValueError, "any: axis 4.*(2, 3)"),
    ("ops.broadcast_to(A, (2, 2))", ValueError, "broadcast_to.*(3,).*(2, 2)"),
    ("ops.split(A, 2)", ValueError, "split.*size 3.*2 equal"),
    ("ops.slice(X, (0, 2), (2, 2))", ValueError, "slice.*(0, 2).*(2, 2).*(2, 3)"),
    ("ops.take(X, [7], axis=1)", IndexError, "take: index 7.*axis 1 of size 3"),
    ("ops.take_along_axis(X, np.array([0, 1]), axis=1)", ValueError, "take_along_axis.*(2,).*(2, 3)"),
    ("ops.tile(X, -1)", ValueError, "tile: repeats"),
    ("ops.repeat(X, [1, 2], axis=1)", ValueError, "repeat.*(2, 3)"),
    ("ops.pad(X, 1, mode='maximum')", ValueError, "pad: mode"),
    ("ops.pad(X, 1, mode='reflect', constant_values=2)", ValueError, "constant_values"),
    ("ops.pad(X, ((1, 1), (1, 1), (1, 1)))", ValueError, "pad: pad_width.*(2, 3)"),
    ("ops.one_hot(I, 3, axis=3)", ValueError, "one_hot: axis 3"),
    ("ops.top_k(X, 4)", ValueError, "top_k: k=4.*(2, 3)"),
    ("ops.dot(X, X)", ValueError, "dot: shapes (2, 3) and (2, 3)"),
    ("ops.norm(X, ord='nuc', axis=1)", ValueError, "norm: ord='nuc' is a matrix norm"),
    ("ops.norm(X, ord=3)", ValueError, "norm: ord=3 is not a matrix norm"),
    ("ops.norm(np.ones((2, 2, 2)), ord=1)", ValueError, "norm.*(2, 2, 2)"),
    ("ops.categorical_crossentropy(T, P[:, :2])", ValueError, "same shape.*(2, 3).*(2, 2)"),
    ("ops.sparse_categorical_crossentropy(np.array([3, 0]), P)", ValueError, r"\[0, 3\)"),
    ("ops.sparse_categorical_crossentropy(np.array([1, 0]), P, axis=0)", ValueError, "axis=-1"),
    ("ops.segment_sum(A, np.array([0, 5, 1]), num_segments=2)", ValueError, "segment id 5"),
    ("ops.segment_sum(A, np.array([0, 1]))", ValueError, "segment_ids of shape (2,).*(3,)"),
    ("ops.arange(0, 5, 0)", ValueError, "arange: step"),
    ("ops.ones((2, -1))", ValueError, "ones: shape"),
    ("ops.full((2,), np.ones(3))", ValueError, "full: fill_value of shape (3,)"),
    ("ops.equal(A, np.ones(2))", ValueError, "equal: shapes (3,) and (2,)"),
    ("ops.reshape(X, (4, 2))", ValueError, "reshape.*(2, 3).*(4, 2)"),
    ("ops.triu(A)", ValueError, "triu.*(3,)"),
    ("ops.cast(X, 'float16')", TypeError, "cast.*float32 or float64.*float16"),
    ("ops.cast(X, 'string')", TypeError, "cast"),
    ("ops.convert_to_tensor(A, sparse=True)", NotImplementedError, "dense"),
    ("ops.take(X, [0.5])", ValueError, "take: indices must be whole numbers"),
])
def test_errors_name_the_op_and_the_shapes(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")
                       if "\\" not in words else words):
        eval(call)


def test_a_refused_call_changes_nothing():
    x = Tensor(X.copy())
    with pytest.raises(ValueError):
        ops.pad(x, 1, mode="maximum")
    np.testing.assert_array_equal(x.data, X)


# --- the names: keras.ops.shape is a function, image and linalg Keras's submodules --------
def test_ops_names_are_functions_and_keras_submodules():
    assert keras.ops is ops
    assert callable(keras.ops.shape) and keras.ops.shape(X) == (2, 3)
    assert callable(keras.ops.conv2d)
    np.testing.assert_allclose(keras.ops.linalg.norm(X).data, 8.0)
    assert keras.ops.image.resize(np.ones((1, 4, 4, 1), "float32"), 2, 2).shape == (1, 2, 2, 1)
    for name in ops.__all__:
        assert getattr(ops, name) is not None
        assert name in ("image", "linalg") or callable(getattr(ops, name)), name


def test_integer_results_index_and_feed_an_embedding():
    positions = ops.arange(0, 4)
    assert type(positions.numpy()) is np.ndarray and positions.numpy().dtype == np.int32
    embedding = layers.Embedding(input_dim=4, output_dim=2)
    out = embedding(positions)
    np.testing.assert_allclose(out.data, embedding.get_weights()[0])
    np.testing.assert_array_equal(np.array([10, 20, 30])[ops.argmax(X, axis=-1)], [20, 10])


# --- symbolic tensors: an op on a functional model's placeholders becomes a layer ---------
def test_ops_on_symbolic_tensors_become_layers_that_save_and_load(tmp_path):
    keras.backend.clear_session()  # layer names start over: the first expand_dims is "expand_dims"
    inputs = keras.Input((4, 3))
    assert ops.shape(inputs) == (None, 4, 3)  # Keras 3's symbolic shape
    x = ops.expand_dims(inputs, -1)
    assert x.shape == (None, 4, 3, 1) and x.layer.name == "expand_dims"
    both = ops.concatenate([inputs, ops.square(inputs)], axis=-1)
    total = ops.sum(ops.pad(both, ((0, 0), (1, 0), (0, 0)), constant_values=1.0), axis=(1, 2))
    mean, variance = ops.moments(inputs, axes=[1])
    cut = inputs[:, 1:, ::2][..., 0]
    model = keras.Model(inputs, [x, both, total, ops.add(mean, variance), cut])
    assert [t.shape for t in model.outputs] == [(None, 4, 3, 1), (None, 4, 6), (None,), (None, 3),
                                                (None, 3)]
    data = np.random.default_rng(0).random((2, 4, 3)).astype("float32")
    outputs = model.predict(data, verbose=0)
    np.testing.assert_allclose(outputs[0], data[..., None])
    np.testing.assert_allclose(outputs[1], np.concatenate([data, data ** 2], -1), rtol=1e-6)
    np.testing.assert_allclose(outputs[2], np.concatenate([data, data ** 2], -1).sum((1, 2)) + 6,
                               rtol=1e-5)
    np.testing.assert_allclose(outputs[3], data.mean(1) + data.var(1), rtol=1e-5)
    np.testing.assert_allclose(outputs[4], data[:, 1:, ::2][..., 0])
    model.save(tmp_path / "ops.mdl")
    loaded = keras.models.load_model(tmp_path / "ops.mdl")
    for before, after in zip(outputs, loaded.predict(data, verbose=0)):
        np.testing.assert_allclose(after, before)


def test_ops_layer_trains_between_layers():
    minidl.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    hidden = layers.Dense(4)(ops.multiply(ops.expand_dims(inputs, 1), 2.0)[:, 0])
    model = keras.Model(inputs, layers.Dense(1)(ops.relu6(hidden)))
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((32, 6)).astype("float32")
    history = model.fit(x, x.sum(1), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("call, words", [
    ("ops.argmax(inputs, axis=-1)", "argmax.*not float Tensors.*cast"),
    ("ops.equal(inputs, 0.0)", "equal.*not float Tensors"),
    ("ops.pad(inputs, 1, mode=print)", "pad.*mode=.*cannot store.*Lambda"),
])
def test_ops_a_model_cannot_carry_are_a_clear_type_error(call, words):
    with pytest.raises(TypeError, match=words):
        eval(call, globals(), {"inputs": keras.Input((3,))})


# --- keras.io "Text classification with Transformer", Keras 3 version ---------------------
class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim),]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


def test_text_classification_with_transformer_keras3():
    minidl.utils.set_random_seed(0)
    vocab_size, maxlen = 50, 12
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, vocab_size, (128, maxlen))
    y_train = rng.integers(0, 2, 128)
    x_val = rng.integers(0, vocab_size, (32, maxlen))
    y_val = rng.integers(0, 2, 32)

    embed_dim = 32  # Embedding size for each token
    num_heads = 2  # Number of attention heads
    ff_dim = 32  # Hidden layer size in feed forward network inside transformer

    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val), verbose=0
    )
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.isfinite(history.history["loss"])) and len(history.history["loss"]) == 2
    assert model.predict(x_val[:3], verbose=0).shape == (3, 2)
