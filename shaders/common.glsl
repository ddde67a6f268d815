// common.glsl - storage types per precision variant, and activations.
//
// One source serves every precision: CMake compiles each kernel with
// -DA_F16 / -DW_F16 / -DC_F16 to store activations-in (A), weights (W) and
// outputs (C) as float16_t. Arithmetic is always fp32: values are widened
// on load and narrowed on store.
#extension GL_EXT_shader_16bit_storage : require

#ifdef A_F16
#define A_T float16_t
#else
#define A_T float
#endif
#ifdef W_F16
#define W_T float16_t
#else
#define W_T float
#endif
#ifdef C_F16
#define C_T float16_t
#else
#define C_T float
#endif

// Activation codes shared with lib/ops (vk_act).
#define ACT_NONE 0u
#define ACT_GELU 1u        // exact: 0.5 x (1 + erf(x / sqrt 2))
#define ACT_GELU_TANH 2u   // gelu_new / gelu_pytorch_tanh
#define ACT_QUICK_GELU 3u  // x * sigmoid(1.702 x)
#define ACT_RELU 4u
#define ACT_SILU 5u
#define ACT_TANH 6u

// tanh that cannot overflow: exp of a non-positive argument only.
float safe_tanh(float x)
{
    float t = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - t) / (1.0 + t);
}

// erf with absolute error below 1.2e-7 (W. J. Cody's rational
// approximations are overkill here; this is Numerical Recipes' erfc
// Chebyshev fit, fractional error < 1.2e-7 everywhere).
float erf_approx(float x)
{
    float z = abs(x);
    float t = 1.0 / (1.0 + 0.5 * z);
    float r = t * exp(-z * z - 1.26551223 +
                      t * (1.00002368 +
                      t * (0.37409196 +
                      t * (0.09678418 +
                      t * (-0.18628806 +
                      t * (0.27886807 +
                      t * (-1.13520398 +
                      t * (1.48851587 +
                      t * (-0.82215223 +
                      t * 0.17087277)))))))));
    float e = 1.0 - r;
    return x >= 0.0 ? e : -e;
}

float activate(float x, uint act)
{
    if (act == ACT_GELU)
        return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752));
    if (act == ACT_GELU_TANH)
        return 0.5 * x * (1.0 + safe_tanh(0.79788456080286536 * (x + 0.044715 * x * x * x)));
    if (act == ACT_QUICK_GELU)
        return x / (1.0 + exp(-1.702 * x));
    if (act == ACT_RELU)
        return max(x, 0.0);
    if (act == ACT_SILU)
        return x / (1.0 + exp(-x));
    if (act == ACT_TANH)
        return safe_tanh(x);
    return x;
}

// The vec4 kernels read storage texel buffers with imageLoad (inline code
// on lavapipe, where texelFetch of a float format is a function call);
// kernel.c makes the views RGBA16F for fp16 variants, RGBA32F otherwise.
#ifdef A_F16
#define TEXEL_FMT rgba16f
#else
#define TEXEL_FMT rgba32f
#endif
