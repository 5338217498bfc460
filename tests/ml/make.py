"""Builds the ai.onnx.ml cases in tests/ml/<case>/, in the ONNX node-suite layout
(model.onnx, test_data_set_0/input_*.pb, output_*.pb), with outputs computed by
onnxruntime: scikit-learn models converted by skl2onnx, as users make them, and
single-node cases for the ML ops that converters write less often.

    python3 -m venv /tmp/ortv
    /tmp/ortv/bin/pip install onnxruntime==1.31.1 onnx numpy scikit-learn skl2onnx
    /tmp/ortv/bin/python tests/ml/make.py

The cases are small and checked in; `cargo xtask test` runs them with `ort test`.
"""

import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ML = "ai.onnx.ml"


def to_proto(value, name):
    """An onnxruntime result (array, list of arrays or of dicts, dict) as the
    proto the node suite stores it in."""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            seq = onnx.SequenceProto(name=name, elem_type=onnx.SequenceProto.MAP)
            seq.map_values.extend(to_proto(m, "") for m in value)
            return seq
        return numpy_helper.from_list([np.asarray(v) for v in value], name)
    if isinstance(value, dict):
        keys = list(value)
        m = onnx.MapProto(name=name)
        if isinstance(keys[0], str):
            m.key_type = TensorProto.STRING
            m.string_keys.extend(k.encode() for k in keys)
        else:
            m.key_type = TensorProto.INT64
            m.keys.extend(int(k) for k in keys)
        # A map's values are a sequence of scalar tensors.
        vals = onnx.SequenceProto(elem_type=onnx.SequenceProto.TENSOR)
        vals.tensor_values.extend(numpy_helper.from_array(np.float32(value[k])) for k in keys)
        m.values.CopyFrom(vals)
        return m
    return numpy_helper.from_array(np.asarray(value), name)


def save(name, model, feeds):
    """Runs `model` in onnxruntime on `feeds` and stores it as case `name`."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(
        model.SerializeToString(), opts, providers=["CPUExecutionProvider"]
    )
    results = sess.run(None, feeds)
    d = os.path.join(HERE, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (k, v) in enumerate(feeds.items()):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(to_proto(v, k).SerializeToString())
    for i, (o, r) in enumerate(zip(sess.get_outputs(), results)):
        with open(os.path.join(d, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
            f.write(to_proto(r, o.name).SerializeToString())


def node_case(name, op, inputs, in_types, out_types, **attrs):
    """One ai.onnx.ml node; `in_types`/`out_types` are TypeProtos (one per input and output)."""
    out_names = [f"y{i}" for i in range(len(out_types))]
    node = helper.make_node(op, list(inputs), out_names, domain=ML, **attrs)
    g_in = [helper.make_value_info(k, t) for k, t in zip(inputs, in_types)]
    g_out = [helper.make_value_info(o, t) for o, t in zip(out_names, out_types)]
    graph = helper.make_graph([node], name, g_in, g_out)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ML, 3)],
        ir_version=8,
    )
    save(name, model, inputs)


def tensor(elem, *shape):
    return helper.make_tensor_type_proto(elem, shape if shape else None)


def seq_map(key, value=TensorProto.FLOAT):
    return helper.make_sequence_type_proto(
        helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))
    )


def sklearn_cases(rng):
    from skl2onnx import to_onnx
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC, SVR

    x = rng.standard_normal((60, 4)).astype(np.float32)
    y3 = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    yr = (x @ np.array([1.5, -2.0, 0.5, 0.25]) + 0.1 * rng.standard_normal(60)).astype(np.float32)
    xt = rng.standard_normal((7, 4)).astype(np.float32)

    def conv(name, model, fit_x, **kw):
        onx = to_onnx(model, fit_x[:1], target_opset={"": 17, ML: 3}, **kw)
        save(name, onx, {onx.graph.input[0].name: xt})

    conv("skl_logistic_regression_zipmap", LogisticRegression().fit(x, y3), x)
    conv(
        "skl_logistic_regression_binary",
        LogisticRegression().fit(x, (y3 > 0).astype(np.int64)),
        x,
        options={"zipmap": False},
    )
    conv(
        "skl_logistic_regression_strings",
        LogisticRegression().fit(x, np.array(["a", "b", "c"])[y3]),
        x,
    )
    conv("skl_random_forest_regressor", RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0).fit(x, yr), x)
    conv(
        "skl_gradient_boosting_classifier",
        GradientBoostingClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y3),
        x,
    )
    conv("skl_svc_rbf", SVC(probability=False).fit(x, y3), x, options={"zipmap": False})
    conv(
        "skl_svc_linear_probability",
        SVC(kernel="linear", probability=True, random_state=0).fit(x, (y3 > 0).astype(np.int64)),
        x,
    )
    conv("skl_svc_poly", SVC(kernel="poly", degree=2).fit(x, y3), x, options={"zipmap": False})
    conv("skl_svr_rbf", SVR().fit(x, yr), x)
    conv("skl_svr_sigmoid", SVR(kernel="sigmoid", gamma=0.1).fit(x, yr), x)
    conv("skl_kmeans", KMeans(n_clusters=3, n_init=2, random_state=0).fit(x), x)
    conv("skl_normalizer_scaler_linear", make_pipeline(Normalizer(norm="l2"), StandardScaler(), LinearRegression()).fit(x, yr), x)

    # StandardScaler + OneHotEncoder + LinearRegression over a numeric and a categorical column.
    cats = rng.integers(0, 3, (60, 1)).astype(np.int64)
    pipe = make_pipeline(
        ColumnTransformer(
            [("num", StandardScaler(), [0, 1]), ("cat", OneHotEncoder(handle_unknown="ignore"), [2])]
        ),
        LinearRegression(),
    )
    import pandas as pd

    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": cats[:, 0]})
    pipe.fit(frame, yr)
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType

    onx = to_onnx(
        pipe,
        initial_types=[("a", FloatTensorType([None, 1])), ("b", FloatTensorType([None, 1])), ("c", Int64TensorType([None, 1]))],
        target_opset={"": 17, ML: 3},
    )
    save(
        "skl_scaler_one_hot_linear",
        onx,
        {"a": xt[:, :1], "b": xt[:, 1:2], "c": np.array([[0], [1], [2], [1], [5], [0], [2]], dtype=np.int64)},
    )


def op_cases(rng):
    f = TensorProto.FLOAT
    i64 = TensorProto.INT64
    s = TensorProto.STRING
    x = rng.standard_normal((3, 4)).astype(np.float32)
    for norm in ["MAX", "L1", "L2"]:
        node_case(f"ml_normalizer_{norm.lower()}", "Normalizer", {"x": x}, [tensor(f, 3, 4)], [tensor(f)], norm=norm)
    node_case(
        "ml_scaler", "Scaler", {"x": x}, [tensor(f, 3, 4)], [tensor(f)],
        offset=[0.5, -1.0, 2.0, 0.0], scale=[2.0, 0.5, -1.0, 3.0],
    )
    node_case("ml_scaler_broadcast_int", "Scaler", {"x": np.array([[1, 2], [3, -4]], dtype=np.int64)}, [tensor(i64, 2, 2)], [tensor(f)], offset=[1.0], scale=[0.5])
    xn = x.copy()
    xn[0, 1] = np.nan
    xn[2, 3] = np.nan
    node_case("ml_imputer_nan", "Imputer", {"x": xn}, [tensor(f, 3, 4)], [tensor(f)], imputed_value_floats=[9.0, 8.0, 7.0, 6.0], replaced_value_float=float("nan"))
    node_case("ml_imputer_int", "Imputer", {"x": np.array([[1, -1], [-1, 4]], dtype=np.int64)}, [tensor(i64, 2, 2)], [tensor(i64)], imputed_value_int64s=[42], replaced_value_int64=-1)
    node_case(
        "ml_feature_vectorizer", "FeatureVectorizer",
        {"a": x[:, :2].copy(), "b": np.array([[1], [2], [3]], dtype=np.float32), "c": x},
        [tensor(f, 3, 2), tensor(f, 3, 1), tensor(f, 3, 4)], [tensor(f)], inputdimensions=[2, 1, 3],
    )
    node_case(
        "ml_feature_vectorizer_ints", "FeatureVectorizer",
        {"a": np.array([[1, 2], [3, 4]], dtype=np.int64), "b": np.array([[7], [8]], dtype=np.int64)},
        [tensor(i64, 2, 2), tensor(i64, 2, 1)], [tensor(f)], inputdimensions=[3, 1],
    )
    node_case(
        "ml_category_mapper_to_int", "CategoryMapper",
        {"x": np.array([["cat", "dog"], ["emu", "cat"]], dtype=object)}, [tensor(s, 2, 2)], [tensor(i64)],
        cats_strings=["cat", "dog", "cow"], cats_int64s=[3, 5, 7], default_int64=-9,
    )
    node_case(
        "ml_category_mapper_to_string", "CategoryMapper",
        {"x": np.array([7, 3, 1], dtype=np.int64)}, [tensor(i64, 3)], [tensor(s)],
        cats_strings=["cat", "dog", "cow"], cats_int64s=[3, 5, 7], default_string="none",
    )
    node_case(
        "ml_one_hot_encoder_ints", "OneHotEncoder",
        {"x": np.array([[1, 4], [9, 2]], dtype=np.int64)}, [tensor(i64, 2, 2)], [tensor(f)],
        cats_int64s=[1, 2, 4, 8], zeros=1,
    )
    node_case(
        "ml_one_hot_encoder_strings", "OneHotEncoder",
        {"x": np.array(["b", "a", "c"], dtype=object)}, [tensor(s, 3)], [tensor(f)],
        cats_strings=["a", "b", "c"],
    )
    coef = rng.standard_normal(12).astype(np.float32).tolist()
    for post in ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"]:
        node_case(
            f"ml_linear_classifier_{post.lower()}", "LinearClassifier", {"x": x}, [tensor(f, 3, 4)],
            [tensor(i64), tensor(f)], coefficients=coef, intercepts=[0.1, -0.2, 0.3],
            classlabels_ints=[10, 20, 30], post_transform=post,
        )
    node_case(
        "ml_linear_classifier_binary", "LinearClassifier", {"x": x}, [tensor(f, 3, 4)],
        [tensor(s), tensor(f)], coefficients=coef[:4], intercepts=[0.2],
        classlabels_strings=["no", "yes"], post_transform="LOGISTIC",
    )
    node_case(
        "ml_linear_regressor_targets", "LinearRegressor", {"x": x}, [tensor(f, 3, 4)], [tensor(f)],
        coefficients=coef[:8], intercepts=[1.0, -1.0], targets=2,
    )
    node_case(
        "ml_zipmap_ints", "ZipMap", {"x": x[:, :3].copy()}, [tensor(f, 3, 3)], [seq_map(i64)],
        classlabels_int64s=[4, 2, 9],
    )
    node_case(
        "ml_zipmap_strings", "ZipMap", {"x": x[:, :2].copy()}, [tensor(f, 3, 2)], [seq_map(s)],
        classlabels_strings=["p", "q"],
    )
    node_case(
        "ml_array_feature_extractor_ints", "ArrayFeatureExtractor",
        {"x": x, "i": np.array([3, 0], dtype=np.int64)}, [tensor(f, 3, 4), tensor(i64, 2)], [tensor(f)],
    )

    def map_of(key, value):
        return helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))

    node_case(
        "ml_dict_vectorizer_strings", "DictVectorizer", {"m": {"b": 2.5, "z": 1.0, "a": -3.0}},
        [map_of(s, f)], [tensor(f)], string_vocabulary=["a", "b", "c"],
    )
    node_case(
        "ml_dict_vectorizer_ints", "DictVectorizer", {"m": {4: 2.5, 1: -1.0}},
        [map_of(i64, f)], [tensor(f)], int64_vocabulary=[1, 2, 4],
    )
    node_case(
        "ml_cast_map_dense", "CastMap", {"m": {3: 2.5, 1: -1.0}},
        [map_of(i64, f)], [tensor(i64)], cast_to="TO_INT64",
    )
    node_case(
        "ml_cast_map_sparse", "CastMap", {"m": {3: 2.5, 1: -1.0}},
        [map_of(i64, f)], [tensor(f)], cast_to="TO_FLOAT", map_form="SPARSE", max_map=5,
    )
    node_case(
        "ml_cast_map_string", "CastMap", {"m": {0: 0.5, 2: 7.0}},
        [map_of(i64, f)], [tensor(s)], cast_to="TO_STRING",
    )


def main():
    rng = np.random.default_rng(11)
    op_cases(rng)
    sklearn_cases(rng)


if __name__ == "__main__":
    main()
