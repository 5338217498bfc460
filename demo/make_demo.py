"""Builds demo/stripes: a tiny hand-designed image classifier (no training, no
downloads) and one test image, with onnxruntime's output as the reference.

Conv (3x3 edge filters) -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Softmax
classifies a 1x1x32x32 image as horizontal, vertical or diagonal stripes, or blank.

    python demo/make_demo.py   # needs numpy, onnx, onnxruntime
"""
import os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stripes")
os.makedirs(os.path.join(here, "test_data_set_0"), exist_ok=True)

# Edge filters: responses to horizontal, vertical, and the two diagonal directions.
h = np.array([[1, 1, 1], [-2, -2, -2], [1, 1, 1]], np.float32)
v = h.T.copy()
d1 = np.array([[-2, 1, 1], [1, -2, 1], [1, 1, -2]], np.float32)
d2 = np.fliplr(d1).copy()
w = np.stack([h, v, d1, d2])[:, None]  # [4,1,3,3]
# Features -> classes; the bias makes "blank" win when no filter fires.
fc = np.array([[4, -1, -1, -1], [-1, 4, -1, -1], [-1, -1, 2, 2], [0, 0, 0, 0]], np.float32)
fb = np.array([0, 0, 0, 0.5], np.float32)

nodes = [
    helper.make_node("Conv", ["image", "w"], ["edges"], pads=[1, 1, 1, 1], name="edges"),
    helper.make_node("Relu", ["edges"], ["act"], name="relu"),
    helper.make_node("GlobalAveragePool", ["act"], ["pooled"], name="pool"),
    helper.make_node("Flatten", ["pooled"], ["features"], name="flatten"),
    helper.make_node("Gemm", ["features", "fc", "fb"], ["logits"], transB=1, name="classify"),
    helper.make_node("Softmax", ["logits"], ["scores"], axis=1, name="softmax"),
]
graph = helper.make_graph(
    nodes, "stripes",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 32, 32])],
    [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 4])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(fc, "fc"), numpy_helper.from_array(fb, "fb")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="ort demo")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, os.path.join(here, "model.onnx"))

# The demo image: vertical stripes, two pixels wide.
img = np.zeros((1, 1, 32, 32), np.float32)
img[..., :, (np.arange(32) // 2) % 2 == 0] = 1.0
onnx.save_tensor(numpy_helper.from_array(img, "image"), os.path.join(here, "test_data_set_0", "input_0.pb"))

import onnxruntime as ort
sess = ort.InferenceSession(os.path.join(here, "model.onnx"), providers=["CPUExecutionProvider"])
out = sess.run(None, {"image": img})[0]
onnx.save_tensor(numpy_helper.from_array(out, "scores"), os.path.join(here, "test_data_set_0", "output_0.pb"))
print("reference scores", out)
