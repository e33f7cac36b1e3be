/* The activation codes: the one place their numbers are written.
 *
 * A fused kernel takes its activation as a small integer, chosen from these.
 * activation.h (dense), conv_direct.h, conv_winograd.h and recurrent_step.h
 * include this header; the .pyx files take the same names through
 * activation_codes.pxd, which maps Keras's names ("relu", ...) to them.
 * Dense and convolution kernels know the first four; hard_sigmoid
 * (clip(0.2 z + 0.5, 0, 1), Keras 2's) only the recurrent steps.
 */
#ifndef MINIDL_ACTIVATION_CODES_H
#define MINIDL_ACTIVATION_CODES_H

enum minidl_activation {
    MINIDL_LINEAR = 0,
    MINIDL_RELU = 1,
    MINIDL_SIGMOID = 2,
    MINIDL_TANH = 3,
    MINIDL_HARD_SIGMOID = 4
};

#endif
