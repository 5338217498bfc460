"""Builds the com.microsoft contrib-op cases in tests/contrib/<case>/, in the ONNX
node-suite layout (model.onnx, test_data_set_0/input_*.pb, output_*.pb), with
outputs computed by onnxruntime.

    python3 -m venv /tmp/ortv && /tmp/ortv/bin/pip install onnxruntime==1.31.1 onnx numpy
    /tmp/ortv/bin/python tests/contrib/make.py

The cases are small and checked in; `cargo xtask test` runs them with `ort test`.
"""

import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MS = "com.microsoft"


def case(
    name, op, inputs, n_out=1, outputs=None, domain=MS, ref=None, out_type=TensorProto.FLOAT, consts=(), **attrs
):
    """One node of `op` on `inputs` ({name: array}, None for
    an omitted optional input) in `domain`; outputs named y0.. unless `outputs` lists names
    ("" for an omitted one). `ref`, for an op onnxruntime runs only on GPUs,
    computes the outputs with numpy instead; `out_type` is the outputs' declared
    element type, or a list of one per output (rewritten to what onnxruntime
    produced); inputs named in `consts` are initializers (constant weights)."""
    in_names = [k if v is not None else "" for k, v in inputs.items()]
    out_names = outputs if outputs is not None else [f"y{i}" for i in range(n_out)]
    node = helper.make_node(op, in_names, out_names, domain=domain, **attrs)
    feeds = {k: v for k, v in inputs.items() if v is not None and k not in consts}
    inits = [numpy_helper.from_array(inputs[k], k) for k in consts]
    g_in = [
        helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
        for k, v in feeds.items()
    ]
    types = out_type if isinstance(out_type, list) else [out_type] * len(out_names)
    g_out = [
        helper.make_tensor_value_info(o, t, None) for o, t in zip(out_names, types) if o
    ]
    graph = helper.make_graph([node], name, g_in, g_out, initializer=inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(MS, 1)],
        ir_version=8,
    )
    if ref is None:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(
            model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
        )
        results = sess.run(None, feeds)
    else:
        results = ref(**feeds)
    # Output types as onnxruntime produced them.
    for vi, r in zip(g_out, results):
        vi.type.tensor_type.elem_type = helper.np_dtype_to_tensor_dtype(r.dtype)
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (k, v) in enumerate(feeds.items()):
        t = numpy_helper.from_array(v, k)
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())
    for i, (o, r) in enumerate(zip([o for o in out_names if o], results)):
        t = numpy_helper.from_array(r, o)
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())


def main():
    rng = np.random.default_rng(7)

    def f(*shape, scale=2.0):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    case("ms_gelu", "Gelu", {"x": f(2, 3, 8)})
    case("ms_fast_gelu", "FastGelu", {"x": f(2, 3, 8)})
    case("ms_fast_gelu_bias", "FastGelu", {"x": f(2, 3, 8), "bias": f(8)})
    case("ms_bias_gelu", "BiasGelu", {"a": f(2, 3, 8), "b": f(8)})
    case("ms_quick_gelu", "QuickGelu", {"x": f(4, 16)})
    case("ms_quick_gelu_alpha", "QuickGelu", {"x": f(4, 16)}, alpha=1.5)
    # BiasAdd has only a CUDA kernel in onnxruntime: numpy gives the reference.
    case(
        "ms_bias_add",
        "BiasAdd",
        {"x": f(2, 3, 8), "bias": f(8), "skip": f(2, 3, 8)},
        ref=lambda x, bias, skip: [x + bias + skip],
    )
    case(
        "ms_skip_layer_norm",
        "SkipLayerNormalization",
        {"x": f(2, 3, 16), "skip": f(2, 3, 16), "gamma": f(16), "beta": f(16)},
        epsilon=1e-5,
    )
    case(
        "ms_skip_layer_norm_bias_sum",
        "SkipLayerNormalization",
        {"x": f(2, 3, 16), "skip": f(2, 3, 16), "gamma": f(16), "beta": f(16), "bias": f(16)},
        outputs=["y", "", "", "sum"],
        epsilon=1e-5,
    )
    case(
        "ms_skip_layer_norm_no_beta",
        "SkipLayerNormalization",
        {"x": f(3, 16), "skip": f(3, 16), "gamma": f(16)},
    )
    case(
        "ms_fused_matmul_trans_b_alpha",
        "FusedMatMul",
        {"a": f(2, 3, 8), "b": f(5, 8)},
        transB=1,
        alpha=0.5,
    )
    case(
        "ms_fused_matmul_trans_a_batched",
        "FusedMatMul",
        {"a": f(2, 8, 3), "b": f(2, 8, 4)},
        transA=1,
        alpha=-1.25,
    )
    # onnxruntime registers SimplifiedLayerNormalization in the ONNX domain.
    case(
        "ms_simplified_layer_norm",
        "SimplifiedLayerNormalization",
        {"x": f(2, 3, 16), "scale": f(16)},
        domain="",
        epsilon=1e-6,
    )
    case(
        "ms_skip_simplified_layer_norm",
        "SkipSimplifiedLayerNormalization",
        {"x": f(2, 3, 16), "skip": f(2, 3, 16), "gamma": f(16)},
        epsilon=1e-6,
    )
    case(
        "ms_skip_simplified_layer_norm_bias_sum",
        "SkipSimplifiedLayerNormalization",
        {"x": f(2, 3, 16), "skip": f(2, 3, 16), "gamma": f(16), "bias": f(16)},
        outputs=["y", "", "", "sum"],
        epsilon=1e-6,
    )

    case(
        "ms_fused_gemm_leaky_relu",
        "FusedGemm",
        {"a": f(4, 8), "b": f(6, 8), "c": f(6)},
        transB=1,
        alpha=0.5,
        activation="LeakyRelu",
        activation_alpha=0.2,
    )
    case(
        "ms_fused_gemm_hard_sigmoid",
        "FusedGemm",
        {"a": f(8, 4), "b": f(8, 6)},
        transA=1,
        activation="HardSigmoid",
        activation_alpha=0.3,
        activation_beta=0.4,
    )
    case("ms_fused_gemm_elu", "FusedGemm", {"a": f(3, 5), "b": f(5, 7)}, activation="Elu", activation_alpha=0.7)
    case(
        "ms_fused_conv_sum_relu",
        "FusedConv",
        {"x": f(1, 3, 9, 9), "w": f(4, 3, 3, 3), "b": f(4), "z": f(1, 4, 9, 9)},
        pads=[1, 1, 1, 1],
        activation="Relu",
    )
    case(
        "ms_fused_conv_depthwise_clip",
        "FusedConv",
        {"x": f(1, 4, 8, 8), "w": f(4, 1, 3, 3)},
        group=4,
        strides=[2, 2],
        activation="Clip",
        activation_params=[-1.0, 2.0],
    )

    def q(*shape, t=np.uint8):
        lo, hi = np.iinfo(t).min, np.iinfo(t).max
        return rng.integers(lo, hi + 1, size=shape).astype(t)

    one = lambda v: np.array(v, dtype=np.float32)  # noqa: E731
    case(
        "ms_matmul_integer_to_float",
        "MatMulIntegerToFloat",
        {
            "a": q(2, 3, 16),
            "b": q(16, 5, t=np.int8),
            "a_scale": one(0.02),
            "b_scale": (rng.random(5) * 0.05 + 0.01).astype(np.float32),
            "a_zero_point": np.array(131, np.uint8),
            "b_zero_point": q(5, t=np.int8),
            "bias": f(5),
        },
    )
    case(
        "ms_matmul_integer_to_float_no_zp",
        "MatMulIntegerToFloat",
        {"a": q(4, 8), "b": q(8, 3), "a_scale": one(0.5), "b_scale": one(0.25)},
    )
    case(
        "ms_dynamic_quantize_matmul",
        "DynamicQuantizeMatMul",
        {
            "a": f(2, 4, 16),
            "b": q(16, 6, t=np.int8),
            "b_scale": (rng.random(6) * 0.05 + 0.01).astype(np.float32),
            "b_zero_point": None,
            "bias": f(6),
        },
    )

    u8 = lambda v: np.array(v, dtype=np.uint8)  # noqa: E731
    i8 = lambda v: np.array(v, dtype=np.int8)  # noqa: E731
    for name, op in [("add", "QLinearAdd"), ("mul", "QLinearMul")]:
        case(
            f"ms_qlinear_{name}_broadcast",
            op,
            {"a": q(2, 3, 4), "a_s": one(0.05), "a_z": u8(120), "b": q(3, 1), "b_s": one(0.07),
             "b_z": u8(100), "c_s": one(0.09), "c_z": u8(130)},
            out_type=TensorProto.UINT8,
        )
        case(
            f"ms_qlinear_{name}_scalar_a_int8",
            op,
            {"a": q(1, t=np.int8), "a_s": one(0.05), "a_z": i8(3), "b": q(2, 5, t=np.int8), "b_s": one(0.02),
             "b_z": i8(-4), "c_s": one(0.04), "c_z": i8(1)},
            out_type=TensorProto.INT8,
        )
    case(
        "ms_qlinear_global_average_pool",
        "QLinearGlobalAveragePool",
        {"x": q(2, 3, 5, 7), "x_s": one(0.03), "x_z": u8(128), "y_s": one(0.01), "y_z": u8(100)},
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_global_average_pool_nhwc",
        "QLinearGlobalAveragePool",
        {"x": q(2, 4, 6, 5, t=np.int8), "x_s": one(0.03), "x_z": i8(-2), "y_s": one(0.02), "y_z": i8(5)},
        channels_last=1,
        out_type=TensorProto.INT8,
    )
    case(
        "ms_qgemm_float_out",
        "QGemm",
        {"a": q(3, 16), "a_s": one(0.02), "a_z": u8(128), "b": q(6, 16, t=np.int8),
         "b_s": (rng.random(6) * 0.05 + 0.01).astype(np.float32), "b_z": np.zeros(6, np.int8),
         "c": rng.integers(-500, 500, size=6).astype(np.int32)},
        transB=1,
        alpha=1.5,
    )
    case(
        "ms_qgemm_quantized_out",
        "QGemm",
        {"a": q(16, 4), "a_s": one(0.02), "a_z": u8(120), "b": q(16, 5), "b_s": one(0.03), "b_z": u8(127),
         "c": rng.integers(-500, 500, size=(4, 5)).astype(np.int32), "y_s": one(0.5), "y_z": u8(128)},
        transA=1,
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_conv_nhwc",
        "QLinearConv",
        {"x": q(1, 7, 7, 3), "x_s": one(0.02), "x_z": u8(128), "w": q(4, 3, 3, 3, t=np.int8),
         "w_s": (rng.random(4) * 0.05 + 0.01).astype(np.float32), "w_z": np.zeros(4, np.int8),
         "y_s": one(0.1), "y_z": u8(120), "b": rng.integers(-500, 500, size=4).astype(np.int32)},
        channels_last=1,
        pads=[1, 1, 1, 1],
        strides=[2, 2],
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_sigmoid",
        "QLinearSigmoid",
        {"x": np.arange(256, dtype=np.uint8).reshape(16, 16), "x_s": one(0.05), "x_z": u8(128),
         "y_s": one(1 / 256), "y_z": u8(0)},
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_leaky_relu",
        "QLinearLeakyRelu",
        {"x": np.arange(-128, 128, dtype=np.int8).reshape(16, 16), "x_s": one(0.05), "x_z": i8(10),
         "y_s": one(0.03), "y_z": i8(-20)},
        alpha=0.1,
        out_type=TensorProto.INT8,
    )
    case(
        "ms_qlinear_concat",
        "QLinearConcat",
        {"y_s": one(0.04), "y_z": u8(128), "a": q(2, 3, 2), "a_s": one(0.04), "a_z": u8(128),
         "b": q(2, 2, 2), "b_s": one(0.03), "b_z": u8(110)},
        axis=1,
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_where",
        "QLinearWhere",
        {"cond": rng.random((3, 4)) > 0.5, "x": q(3, 4), "x_s": one(0.04), "x_z": u8(128), "y": q(1, 4),
         "y_s": one(0.02), "y_z": u8(100), "z_s": one(0.05), "z_z": u8(120)},
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_quantize_linear_axis",
        "QuantizeLinear",
        {"x": f(2, 3, 4), "s": (rng.random(3) * 0.1 + 0.01).astype(np.float32), "z": q(3, t=np.int8)},
        out_type=TensorProto.INT8,
    )
    case(
        "ms_dequantize_linear",
        "DequantizeLinear",
        {"x": q(2, 3, 4), "s": one(0.07), "z": u8(131)},
    )

    def ints(*shape, lo=0, hi=10, t=np.int32):
        return rng.integers(lo, hi, size=shape).astype(t)

    # Attention: hidden 16, 2 heads of 8; B = 2, S = 5.
    att = {"x": f(2, 5, 16, scale=0.5), "w": f(16, 48, scale=0.3), "b": f(48, scale=0.1)}
    case("ms_attention", "Attention", att, num_heads=2)
    case("ms_attention_lengths", "Attention", {**att, "mask": np.array([3, 5], np.int32)}, num_heads=2)
    case(
        "ms_attention_raw_mask_causal",
        "Attention",
        {**att, "mask": np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], np.int32)},
        num_heads=2,
        unidirectional=1,
    )
    case(
        "ms_attention_start_end_bias",
        "Attention",
        {**att, "mask": np.array([4, 5, 1, 0], np.int32), "past": None, "bias": f(1, 2, 5, 5)},
        num_heads=2,
        scale=0.2,
        mask_filter_value=-1000.0,
    )
    case(
        "ms_attention_past_present",
        "Attention",
        {"x": f(2, 1, 16, scale=0.5), "w": att["w"], "b": att["b"], "mask": None,
         "past": f(2, 2, 2, 4, 8, scale=0.5)},
        outputs=["y", "present"],
        num_heads=2,
        unidirectional=1,
    )
    case(
        "ms_attention_qkv_sizes",
        "Attention",
        {"x": f(1, 4, 16, scale=0.5), "w": f(16, 40, scale=0.3), "b": f(40, scale=0.1)},
        num_heads=2,
        qkv_hidden_sizes=[16, 16, 8],
    )
    mq = {"q": f(2, 3, 16, scale=0.5), "k": f(2, 4, 16, scale=0.5), "v": f(2, 4, 12, scale=0.5)}
    case("ms_mha_cross", "MultiHeadAttention", mq, num_heads=2)
    case(
        "ms_mha_bias_mask_attn_bias",
        "MultiHeadAttention",
        {**mq, "bias": f(44, scale=0.1), "kpm": np.array([[1, 1, 0, 1], [1, 1, 1, 0]], np.int32),
         "ab": f(1, 2, 3, 4)},
        num_heads=2,
    )
    case(
        "ms_mha_past_causal",
        "MultiHeadAttention",
        {"q": f(1, 3, 16), "k": f(1, 3, 16), "v": f(1, 3, 16), "bias": None, "kpm": None, "ab": None,
         "pk": f(1, 2, 4, 8), "pv": f(1, 2, 4, 8)},
        outputs=["y", "present_k", "present_v"],
        num_heads=2,
        unidirectional=1,
    )
    case(
        "ms_mha_bnsh_kv",
        "MultiHeadAttention",
        {"q": f(2, 3, 16), "k": f(2, 2, 5, 8), "v": f(2, 2, 5, 8), "bias": f(48, scale=0.1)},
        num_heads=2,
    )
    case(
        "ms_embed_layer_norm",
        "EmbedLayerNormalization",
        {"ids": ints(2, 6, hi=20), "seg": ints(2, 6, hi=2), "word": f(20, 16), "pos": f(8, 16),
         "segemb": f(2, 16), "gamma": f(16), "beta": f(16),
         "mask": np.array([[1, 1, 1, 1, 0, 0], [1, 1, 0, 1, 1, 1]], np.int32)},
        outputs=["y", "mask_index", "sum"],
        out_type=[TensorProto.FLOAT, TensorProto.INT32, TensorProto.FLOAT],
    )
    case(
        "ms_embed_layer_norm_position_ids",
        "EmbedLayerNormalization",
        {"ids": ints(2, 4, hi=20), "seg": None, "word": f(20, 16), "pos": f(8, 16), "segemb": None,
         "gamma": f(16), "beta": f(16), "mask": None, "pids": np.array([[3, 2, 1, 0]], np.int32)},
        outputs=["y", "mask_index"],
        out_type=[TensorProto.FLOAT, TensorProto.INT32],
        epsilon=1e-5,
    )
    cache = np.arange(32 * 4, dtype=np.float32).reshape(32, 4) * 0.05
    cos, sin = np.cos(cache), np.sin(cache)
    case(
        "ms_rotary_embedding_offset",
        "RotaryEmbedding",
        {"x": f(2, 3, 16), "pos": np.array([5], np.int64), "cos": cos, "sin": sin},
    )
    case(
        "ms_rotary_embedding_bnsh_interleaved",
        "RotaryEmbedding",
        {"x": f(2, 2, 3, 8), "pos": ints(2, 3, hi=32, t=np.int64), "cos": cos, "sin": sin},
        interleaved=1,
    )
    half = np.arange(32 * 2, dtype=np.float32).reshape(32, 2) * 0.1
    case(
        "ms_rotary_embedding_partial",
        "RotaryEmbedding",
        {"x": f(1, 3, 16), "pos": ints(1, 3, hi=32, t=np.int64), "cos": np.cos(half), "sin": np.sin(half)},
        num_heads=2,
        rotary_embedding_dim=4,
    )
    # GroupQueryAttention: 4 query heads and 2 key/value heads of 16.
    kv_out = ["y", "present_k", "present_v"]
    gq = {"q": f(2, 5, 64, scale=0.5), "k": f(2, 5, 32, scale=0.5), "v": f(2, 5, 32, scale=0.5),
          "pk": None, "pv": None, "seqlens": np.array([4, 2], np.int32), "tot": np.array(5, np.int32)}
    case("ms_gqa_prompt_padded", "GroupQueryAttention", gq, outputs=kv_out, num_heads=4, kv_num_heads=2)
    cos16 = np.cos(np.arange(64 * 8, dtype=np.float32).reshape(64, 8) * 0.01)
    sin16 = np.sin(np.arange(64 * 8, dtype=np.float32).reshape(64, 8) * 0.01)
    case(
        "ms_gqa_decode_rotary",
        "GroupQueryAttention",
        {"q": f(2, 1, 64, scale=0.5), "k": f(2, 1, 32, scale=0.5), "v": f(2, 1, 32, scale=0.5),
         "pk": f(2, 2, 8, 16, scale=0.5), "pv": f(2, 2, 8, 16, scale=0.5),
         "seqlens": np.array([6, 3], np.int32), "tot": np.array(7, np.int32), "cos": cos16, "sin": sin16},
        outputs=kv_out,
        num_heads=4,
        kv_num_heads=2,
        do_rotary=1,
    )
    case(
        "ms_gqa_packed_window_softcap",
        "GroupQueryAttention",
        {"qkv": f(1, 6, 128, scale=0.5), "k": None, "v": None, "pk": None, "pv": None,
         "seqlens": np.array([5], np.int32), "tot": np.array(6, np.int32)},
        outputs=kv_out,
        num_heads=4,
        kv_num_heads=2,
        local_window_size=3,
        softcap=2.0,
        smooth_softmax=1,
    )
    case(
        "ms_gqa_chunked_prefill_bias_sink",
        "GroupQueryAttention",
        {"q": f(1, 3, 64, scale=0.5), "k": f(1, 3, 32, scale=0.5), "v": f(1, 3, 32, scale=0.5),
         "pk": f(1, 2, 4, 16, scale=0.5), "pv": f(1, 2, 4, 16, scale=0.5),
         "seqlens": np.array([6], np.int32), "tot": np.array(7, np.int32), "cos": None, "sin": None,
         "pids": None, "ab": f(1, 4, 3, 7), "sink": f(4)},
        outputs=kv_out,
        num_heads=4,
        kv_num_heads=2,
        scale=0.3,
    )

    def pack(q, bits):
        """Rows of `bits`-wide values packed low bits first, padded to whole bytes."""
        per = 8 // bits
        q = np.pad(q, [(0, 0)] * (q.ndim - 1) + [(0, (-q.shape[-1]) % per)])
        q = q.reshape(*q.shape[:-1], -1, per).astype(np.uint8)
        return sum((q[..., i] << (i * bits)) for i in range(per)).astype(np.uint8)

    def nbits(n, k, bits, bs, zp=True, float_zp=False):
        kb = -(-k // bs)
        q = rng.integers(0, 1 << bits, size=(n, kb * bs))
        b = pack(q, bits).reshape(n, kb, bs * bits // 8)
        scales = (rng.random((n, kb)) * 0.05 + 0.01).astype(np.float32)
        if not zp:
            z = None
        elif float_zp:
            z = (rng.random((n, kb)) * (1 << bits)).astype(np.float32)
        else:
            z = pack(rng.integers(0, 1 << bits, size=(n, kb)), bits)
        return {"b": b, "scales": scales.reshape(-1), "zp": z}

    for bits, bs, zp, level in [(4, 32, True, 0), (4, 16, False, 0), (8, 64, True, 0), (2, 32, True, 0),
                                (4, 32, True, 4), (8, 32, False, 4)]:
        k = 80
        w = nbits(24, k, bits, bs, zp)
        case(
            f"ms_matmul_nbits_{bits}bit_bs{bs}{'_zp' if zp else ''}_level{level}",
            "MatMulNBits",
            {"a": f(2, 3, k), **w, "g_idx": None, "bias": f(24)},
            consts=["b", "scales"] + (["zp"] if zp else []),
            K=k, N=24, bits=bits, block_size=bs, accuracy_level=level,
        )
    w = nbits(8, 64, 4, 16, float_zp=True)
    case("ms_matmul_nbits_float_zp_runtime", "MatMulNBits", {"a": f(4, 64), **w}, K=64, N=8, bits=4, block_size=16)
    w = nbits(8, 64, 4, 16, zp=False)
    g = (np.arange(64) % 4).astype(np.int32)
    case(
        "ms_matmul_nbits_g_idx",
        "MatMulNBits",
        {"a": f(3, 64), "b": w["b"], "scales": w["scales"], "zp": None, "g_idx": g},
        K=64, N=8, bits=4, block_size=16,
    )
    # GatherBlockQuantized: a packed 4-bit table [10, 64] in blocks of 16.
    table = pack(rng.integers(0, 16, size=(10, 64)), 4)
    case(
        "ms_gather_block_quantized_4bit",
        "GatherBlockQuantized",
        {"data": table, "idx": np.array([[3, 9], [0, -1]], np.int64),
         "scales": (rng.random((10, 4)) * 0.1).astype(np.float32), "zp": pack(rng.integers(0, 16, size=(10, 4)), 4)},
        block_size=16,
    )
    case(
        "ms_gather_block_quantized_8bit_no_zp",
        "GatherBlockQuantized",
        {"data": rng.integers(0, 256, size=(6, 32)).astype(np.uint8), "idx": np.array([5, 0, 2], np.int32),
         "scales": (rng.random((6, 2)) * 0.1).astype(np.float32)},
        block_size=16,
        bits=8,
    )

    # Appended last, so the cases above keep their random data.
    case(
        "ms_qlinear_average_pool",
        "QLinearAveragePool",
        {"x": q(2, 3, 7, 6), "x_s": one(0.03), "x_z": u8(128), "y_s": one(0.02), "y_z": u8(120)},
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        strides=[2, 2],
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_average_pool_nhwc_include_pad",
        "QLinearAveragePool",
        {"x": q(1, 6, 5, 4, t=np.int8), "x_s": one(0.05), "x_z": i8(3), "y_s": one(0.04), "y_z": i8(-7)},
        kernel_shape=[2, 3],
        pads=[0, 1, 1, 1],
        count_include_pad=1,
        channels_last=1,
        out_type=TensorProto.INT8,
    )
    case(
        "ms_nhwc_max_pool",
        "NhwcMaxPool",
        {"x": q(2, 7, 6, 5)},
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        strides=[2, 2],
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_nhwc_max_pool_int8_dilated",
        "NhwcMaxPool",
        {"x": q(1, 8, 8, 3, t=np.int8)},
        kernel_shape=[2, 2],
        dilations=[2, 2],
        out_type=TensorProto.INT8,
    )
    case(
        "ms_qlinear_softmax_opset13",
        "QLinearSoftmax",
        {"x": q(2, 5, 7), "x_s": one(0.05), "x_z": u8(128), "y_s": one(1 / 256), "y_z": u8(0)},
        axis=1,
        opset=13,
        out_type=TensorProto.UINT8,
    )
    case(
        "ms_qlinear_softmax_opset12_int8",
        "QLinearSoftmax",
        {"x": q(3, 2, 6, t=np.int8), "x_s": one(0.1), "x_z": i8(0), "y_s": one(1 / 255), "y_z": i8(-128)},
        axis=1,
        opset=12,
        out_type=TensorProto.INT8,
    )


if __name__ == "__main__":
    main()
