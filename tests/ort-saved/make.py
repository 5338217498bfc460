"""Saves each shared model as onnxruntime optimizes it, at its `extended` and
`all` levels (`SessionOptions.optimized_model_filepath`), with onnxruntime's
outputs on the shared inputs as references:

    python3 tests/ort-saved/make.py OUT_DIR [SHARED_MODELS_DIR]

OUT_DIR/<model>_<level>/ then has the node-suite layout (model.onnx,
test_data_set_*/input_*.pb, output_*.pb) and a meta.json with the shared
model's tolerances. Such files are what users get from onnxruntime's
`optimized_model_filepath`: they carry com.microsoft contrib ops (FusedConv,
FusedGemm, QLinearConv with channels_last, DynamicQuantizeMatMul...) and, at
`all`, the com.microsoft.nchwc blocked-layout ops with the block size of the
machine that saved them. So they are made where the tests run, not checked in.
"""

import glob
import json
import os
import shutil
import sys

import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def save_optimized(src, dst, level):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = level
    opts.optimized_model_filepath = dst
    opts.log_severity_level = 3  # the "hardware specific" warning is the point here
    ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def run_saved(path, inputs):
    opts = ort.SessionOptions()
    # Run the saved graph as it is.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return names, sess.run(names, inputs)


def main():
    out = os.path.abspath(sys.argv[1])
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "..", "shared", "models")
    os.makedirs(out, exist_ok=True)
    for src_dir in sorted(glob.glob(os.path.join(shared, "*"))):
        src = os.path.join(src_dir, "model.onnx")
        if not os.path.exists(src):
            continue
        name = os.path.basename(src_dir)
        meta = {}
        if os.path.exists(os.path.join(src_dir, "meta.json")):
            with open(os.path.join(src_dir, "meta.json")) as f:
                meta = json.load(f)
        for tag, level in LEVELS.items():
            d = os.path.join(out, f"{name}_{tag}")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            model = os.path.join(d, "model.onnx")
            save_optimized(src, model, level)
            with open(os.path.join(d, "meta.json"), "w") as f:
                json.dump({k: v for k, v in meta.items() if k.startswith("suggested_")}, f)
            graph_inputs = [i.name for i in onnx.load(model, load_external_data=False).graph.input]
            for set_dir in sorted(glob.glob(os.path.join(src_dir, "test_data_set_*"))):
                dst_set = os.path.join(d, os.path.basename(set_dir))
                os.makedirs(dst_set)
                inputs = {}
                for i, pb in enumerate(sorted(glob.glob(os.path.join(set_dir, "input_*.pb")))):
                    t = onnx.TensorProto()
                    with open(pb, "rb") as f:
                        t.ParseFromString(f.read())
                    # Inputs are matched by position where the file has no name.
                    key = t.name or graph_inputs[i]
                    inputs[key] = numpy_helper.to_array(t)
                    shutil.copy(pb, dst_set)
                names, results = run_saved(model, inputs)
                for i, (o, r) in enumerate(zip(names, results)):
                    with open(os.path.join(dst_set, f"output_{i}.pb"), "wb") as f:
                        f.write(numpy_helper.from_array(r, o).SerializeToString())
            print(f"ort-saved: {name}_{tag}")


if __name__ == "__main__":
    main()
