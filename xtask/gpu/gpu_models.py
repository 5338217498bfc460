#!/usr/bin/env python3
"""The larger models of the GPU check, on the GPU machine (run by run.sh).

Exports ResNet-50 (batch 1 and 16), BERT-base (seq 128) and GPT-2 124M
(seq 128) from PyTorch with random weights (seed 0) as case folders
(model.onnx + test_data_set_0 with PyTorch's float32 CPU outputs), checks
`ort test` with cuda,cpu and vulkan,cpu against them, then times `ort bench`
(CUDA with TF32 off and on, Vulkan) and PyTorch eager on the same GPU, and
prints one table. Every time is a median in milliseconds and includes copying
the inputs to the GPU and the outputs back, as `ort bench` does.

usage: gpu_models.py --ort ORT --work DIR --out DIR [--only a,b] [--iters N] [--export-only]
"""
import argparse, json, os, statistics, subprocess, sys, time

import numpy as np
import torch


def models():
    import torchvision
    from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel

    g = torch.Generator().manual_seed(0)
    img1 = torch.rand(1, 3, 224, 224, generator=g)
    img16 = torch.rand(16, 3, 224, 224, generator=g)
    ids = torch.randint(0, 30522, (1, 128), generator=g)
    mask = torch.ones(1, 128, dtype=torch.int64)
    mask[:, 100:] = 0  # padding exercises the additive mask
    types = torch.zeros(1, 128, dtype=torch.int64)
    gids = torch.randint(0, 50257, (1, 128), generator=g)

    def resnet():
        torch.manual_seed(0)
        m = torchvision.models.resnet50(weights=None).eval()
        # Random BatchNorm statistics, so BN is not an identity.
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
        return m

    def eager(cfg):
        # Plain MatMul + Softmax attention, as the exporters of these models give.
        cfg._attn_implementation = "eager"
        return cfg

    def bert():
        torch.manual_seed(0)
        return BertModel(eager(BertConfig())).eval()

    def gpt2():
        torch.manual_seed(0)
        return GPT2LMHeadModel(eager(GPT2Config(use_cache=False))).eval()

    return {
        "resnet50_b1": (resnet, {"input": img1}, None),
        "resnet50_b16": (resnet, {"input": img16}, None),
        "bert_base": (bert, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
                      "last_hidden_state"),
        "gpt2_124m": (gpt2, {"input_ids": gids, "attention_mask": torch.ones_like(gids)}, "logits"),
    }


class Wrap(torch.nn.Module):
    """Positional inputs, one tensor output (a HF output's field)."""

    def __init__(self, m, names, field):
        super().__init__()
        self.m, self.names, self.field = m, names, field

    def forward(self, *xs):
        kw = dict(zip(self.names, xs))
        out = self.m(**kw) if self.field else self.m(*xs)
        if self.field:
            out = out[self.field] if isinstance(out, dict) else getattr(out, self.field)
        return out


def export(name, make, feeds, field, work):
    import onnx
    from onnx import numpy_helper

    d = os.path.join(work, name)
    data = os.path.join(d, "test_data_set_0")
    if os.path.exists(os.path.join(data, "output_0.pb")):
        return d
    os.makedirs(data, exist_ok=True)
    m = Wrap(make(), list(feeds), field).eval()
    xs = tuple(feeds.values())
    with torch.no_grad():
        ref = m(*xs)
    path = os.path.join(d, "model.onnx")
    kw = dict(input_names=list(feeds), output_names=["output"], opset_version=17)
    try:
        torch.onnx.export(m, xs, path, dynamo=False, **kw)
    except TypeError:
        torch.onnx.export(m, xs, path, **kw)
    for k, (n, x) in enumerate(feeds.items()):
        t = numpy_helper.from_array(x.numpy(), n)
        open(os.path.join(data, f"input_{k}.pb"), "wb").write(t.SerializeToString())
    t = numpy_helper.from_array(ref.numpy(), "output")
    open(os.path.join(data, "output_0.pb"), "wb").write(t.SerializeToString())
    json.dump({"suggested_rtol": 1e-3, "suggested_atol": 1e-3}, open(os.path.join(d, "meta.json"), "w"))
    onnx.checker.check_model(path)
    return d


def torch_eager(make, feeds, field, tf32, warmup, iters):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    m = Wrap(make(), list(feeds), field).eval().cuda()
    xs = tuple(feeds.values())
    ts = []
    with torch.no_grad():
        for i in range(warmup + iters):
            torch.cuda.synchronize()
            t = time.perf_counter()
            out = m(*(x.cuda(non_blocking=False) for x in xs)).cpu()
            if i >= warmup:
                ts.append((time.perf_counter() - t) * 1e3)
    del m, out
    torch.cuda.empty_cache()
    return statistics.median(ts)


def ours(ort, d, providers, opts, warmup, iters):
    cmd = [ort, "bench", d, "--providers", providers, "--level", "all", "--threads", "16",
           "--warmup", str(warmup), "--iters", str(iters), "--json"]
    for o in opts:
        cmd += ["--provider-option", o]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    for line in reversed(r.stdout.strip().splitlines()):
        try:
            return json.loads(line)["median_ms"]
        except (ValueError, KeyError):
            pass
    print(f"bench failed: {' '.join(cmd)}\n{r.stderr[-600:]}", file=sys.stderr)
    return None


def check(ort, d, providers, out):
    r = subprocess.run([ort, "test", d, "--providers", providers, "--level", "all"],
                       capture_output=True, text=True, timeout=900)
    text = (r.stdout + r.stderr).strip()
    with open(os.path.join(out, "big-tests.log"), "a") as f:
        f.write(f"$ ort test {d} --providers {providers}\n{text}\n")
    return "pass" if r.returncode == 0 else "FAIL: " + text.splitlines()[0][:200]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ort", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--export-only", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    rows = []
    for name, (make, feeds, field) in models().items():
        if a.only and name not in a.only.split(","):
            continue
        t0 = time.time()
        d = export(name, make, feeds, field, a.work)
        print(f"{name}: exported in {time.time() - t0:.0f} s", flush=True)
        if a.export_only:
            continue
        ok = {p: check(a.ort, d, f"{p},cpu", a.out) for p in ("cuda", "vulkan")}
        warm = 5
        row = {
            "model": name,
            "cuda": ours(a.ort, d, "cuda,cpu", [], warm, a.iters),
            "cuda_tf32": ours(a.ort, d, "cuda,cpu", ["cuda:tf32=1"], warm, a.iters),
            "vulkan": ours(a.ort, d, "vulkan,cpu", [], 2, max(5, a.iters // 5)),
            "torch": torch_eager(make, feeds, field, False, warm, a.iters),
            "torch_tf32": torch_eager(make, feeds, field, True, warm, a.iters),
            "check_cuda": ok["cuda"],
            "check_vulkan": ok["vulkan"],
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    with open(os.path.join(a.out, "table.json"), "w") as f:
        json.dump(rows, f, indent=1)
    f = lambda v: "—" if v is None else f"{v:.2f}"
    print("\n| model | ours CUDA | PyTorch eager | ratio | ours CUDA tf32 | PyTorch tf32 | ratio | ours Vulkan | Vulkan/CUDA | vs PyTorch CPU outputs (cuda, vulkan) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = lambda x, y: "—" if x is None or y is None else f"{x / y:.2f}"
        print(f"| {r['model']} | {f(r['cuda'])} | {f(r['torch'])} | {ratio(r['cuda'], r['torch'])} "
              f"| {f(r['cuda_tf32'])} | {f(r['torch_tf32'])} | {ratio(r['cuda_tf32'], r['torch_tf32'])} "
              f"| {f(r['vulkan'])} | {ratio(r['vulkan'], r['cuda'])} | {r['check_cuda']}, {r['check_vulkan']} |")


if __name__ == "__main__":
    main()
