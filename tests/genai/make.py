"""Builds the 4-bit decoder test model in tests/genai/tiny_llama_int4/ and
onnxruntime's greedy generation from it (expected.json):

    python3 -m venv /tmp/genai && /tmp/genai/bin/pip install onnxruntime==1.31.1 \\
        onnxruntime-genai==0.18.0 transformers==5.25.0 torch==2.15.0 numpy onnx
    /tmp/genai/bin/python tests/genai/make.py

A Llama-style model with random weights (a config and save_pretrained, no
downloads) goes through onnxruntime-genai's model builder at int4 for CPU,
which writes GroupQueryAttention, MatMulNBits, SkipSimplifiedLayerNormalization,
RotaryEmbedding (inside GQA) and past/present KV inputs and outputs. The
reference loop feeds `present` back as `past`, as `ort generate` does. The
outputs are small and checked in; `cargo xtask test` compares `ort generate`
with them, and tests/tests/generate.rs the Rust API.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import torch
from tokenizers import Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tiny_llama_int4")
PROMPT = [1, 17, 42, 99, 7]
NEW_TOKENS = 32


def build(tmp):
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=512,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    # Larger weights than the initializer's, so that logits separate and
    # greedy choices are not near-ties.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0 if p.dim() == 2 else 1.0)
    hf = os.path.join(tmp, "hf")
    model.save_pretrained(hf)
    # The builder saves a tokenizer beside the model: a word-level one over the
    # same 512 ids.
    vocab = {f"t{i}": i for i in range(config.vocab_size)}
    tok = Tokenizer(WordLevel(vocab, unk_token="t0"))
    tok.pre_tokenizer = Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="t1", eos_token="t2", unk_token="t0").save_pretrained(hf)
    shutil.rmtree(OUT, ignore_errors=True)
    subprocess.check_call([
        sys.executable, "-m", "onnxruntime_genai.models.builder",
        "-i", hf, "-o", OUT, "-p", "int4", "-e", "cpu", "-c", os.path.join(tmp, "cache"),
    ])


def generate():
    sess = ort.InferenceSession(os.path.join(OUT, "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in sess.get_inputs()}
    outputs = [o.name for o in sess.get_outputs()]
    pasts = [n for n in inputs if n.startswith("past_key_values")]
    with open(os.path.join(OUT, "genai_config.json")) as f:
        dec = json.load(f)["model"]["decoder"]
    # The head size is symbolic in the model; genai reads it from its config.
    empty = (1, dec["num_key_value_heads"], 0, dec["head_size"])
    feeds_past = {n: np.zeros(empty, np.float32) for n in pasts}
    tokens, logits, done = [], [], 0
    step = list(PROMPT)
    while len(tokens) < NEW_TOKENS:
        s = len(step)
        feeds = {"input_ids": np.array([step], np.int64)}
        if "attention_mask" in inputs:
            feeds["attention_mask"] = np.ones((1, done + s), np.int64)
        if "position_ids" in inputs:
            feeds["position_ids"] = np.arange(done, done + s, dtype=np.int64)[None]
        feeds.update(feeds_past)
        res = dict(zip(outputs, sess.run(outputs, feeds)))
        last = res["logits"][0, -1].astype(np.float32)
        nxt = int(np.argmax(last))
        logits.append([float(v) for v in last])
        tokens.append(nxt)
        feeds_past = {n: res[n.replace("past_key_values", "present")] for n in pasts}
        done += s
        step = [nxt]
    return tokens, logits


def main():
    with tempfile.TemporaryDirectory() as tmp:
        build(tmp)
    tokens, logits = generate()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"prompt": PROMPT, "tokens": tokens, "logits": logits}, f)
    print("tokens:", tokens)


if __name__ == "__main__":
    main()
