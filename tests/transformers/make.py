"""Builds a small BERT the way users pass one through onnxruntime's tools, in
the node-suite layout (tests/transformers/<case>/model.onnx, test_data_set_0/)
with onnxruntime's outputs as references:

    /tmp/genai/bin/python tests/transformers/make.py   (venv of tests/genai/make.py)

- bert_optimized: torch.onnx export, then onnxruntime.transformers.optimizer
  (Attention, EmbedLayerNormalization, SkipLayerNormalization, BiasGelu, ...);
- bert_optimized_dynq: that model through quantize_dynamic;
- bert_optimized_int4: that model through MatMulNBitsQuantizer (4-bit).
Weights are random (a config, no downloads); the files are small and checked in.
"""

import os
import shutil
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
from onnxruntime.transformers import optimizer
from transformers import BertConfig, BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
HEADS, HIDDEN = 4, 64


def export(path):
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=200, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=HEADS,
                     intermediate_size=128, max_position_embeddings=64, attn_implementation="eager")
    bert = BertModel(cfg).eval().requires_grad_(False)

    class Wrap(torch.nn.Module):
        def forward(self, ids, mask, seg):
            out = bert(input_ids=ids, attention_mask=mask, token_type_ids=seg)
            return out.last_hidden_state, out.pooler_output

    model = Wrap()
    ids = torch.randint(0, 200, (2, 16))
    mask = torch.ones(2, 16, dtype=torch.int64)
    mask[1, 11:] = 0
    seg = torch.zeros(2, 16, dtype=torch.int64)
    torch.onnx.export(
        model, (ids, mask, seg), path, input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state", "pooler_output"], opset_version=17, dynamo=False,
        dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "token_type_ids"]},
    )
    return {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": seg.numpy()}


def write_case(name, model_path, feeds):
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    m = onnx.load(model_path)
    onnx.save(m, os.path.join(d, "model.onnx"))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(os.path.join(d, "model.onnx"), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    outs = [o.name for o in sess.get_outputs()]
    results = sess.run(outs, {k: feeds[k] for k in names})
    for i, k in enumerate(names):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(feeds[k], k).SerializeToString())
    for i, (o, r) in enumerate(zip(outs, results)):
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(r, o).SerializeToString())
    from collections import Counter
    print(name, dict(Counter((n.domain or "ai.onnx", n.op_type) for n in m.graph.node if n.domain)))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "bert.onnx")
        feeds = export(raw)
        opt = optimizer.optimize_model(raw, model_type="bert", num_heads=HEADS, hidden_size=HIDDEN)
        opt_path = os.path.join(tmp, "bert_opt.onnx")
        opt.save_model_to_file(opt_path)
        write_case("bert_optimized", opt_path, feeds)
        dynq = os.path.join(tmp, "bert_dynq.onnx")
        quantize_dynamic(opt_path, dynq, weight_type=QuantType.QInt8,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        write_case("bert_optimized_dynq", dynq, feeds)
        q = MatMulNBitsQuantizer(onnx.load(opt_path), block_size=32, is_symmetric=False)
        q.process()
        int4 = os.path.join(tmp, "bert_int4.onnx")
        q.model.save_model_to_file(int4)
        write_case("bert_optimized_int4", int4, feeds)


if __name__ == "__main__":
    main()
