#!/usr/bin/env bash
# The GPU check, run on the GPU machine from an unpacked `cargo xtask gpu-bundle`
# folder: `bash run.sh` (results and logs under $OUT, or ./out).
#
# 1. unpacks the binaries, the node suite and the small models;
# 2. shows which CUDA libraries the provider found, with no symlinks or
#    environment variables set;
# 3. the node suite (sharded over the cores) and the small models with
#    cuda,cpu and vulkan,cpu, against the CPU's required pass lists;
# 4. exports ResNet-50 (batch 1, 16), BERT-base and GPT-2 124M from PyTorch,
#    checks ours against PyTorch's CPU outputs, and benchmarks ours (CUDA with
#    TF32 off and on, Vulkan) against PyTorch eager on the same GPU;
# 5. prints one table.
# Env: SUITES=0 skips step 3, BENCH=0 step 4; SHARDS (default 8).
set -u
B=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$B/out}
W=${WORK:-/tmp/ort-gpu}
mkdir -p "$OUT" "$W"
log() { echo "== $*" | tee -a "$OUT/summary.txt"; }
for a in bin node models; do
    [ -f "$B/$a.tar.xz" ] && tar -xJf "$B/$a.tar.xz" -C "$W"
done
ORT="$W/bin/ort"
# Vulkan needs a loader; bring one when the machine has none.
if ! ldconfig -p | grep -q libvulkan.so.1 && ls "$B"/debs/*.deb >/dev/null 2>&1; then
    for f in "$B"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
    ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$OUT/summary.txt"
log "providers (no LD_LIBRARY_PATH, no symlinks)"
env -u LD_LIBRARY_PATH -u CUDA_PATH -u CUDA_HOME "$ORT" providers 2>&1 | tee -a "$OUT/summary.txt"
env -u LD_LIBRARY_PATH -u CUDA_PATH -u CUDA_HOME LD_DEBUG=libs "$ORT" providers 2>&1 |
    grep -oE "calling init: [^ ]*(libcublas|libcublasLt|libnvrtc|libcuda)\.so[^ ]*" | sort -u | tee -a "$OUT/summary.txt"

if [ "${SUITES:-1}" != 0 ]; then
    SHARDS=${SHARDS:-8}
    rm -rf "$W/shards"
    i=0
    for d in "$W"/node/*/; do
        s="$W/shards/$((i % SHARDS))"
        mkdir -p "$s"
        ln -s "${d%/}" "$s/"
        i=$((i + 1))
    done
    for p in cuda vulkan; do
        t0=$(date +%s)
        for s in "$W"/shards/*; do
            "$ORT" test "$s" --providers "$p,cpu" --level disable --threads 1 \
                --pass-list "$s.$p.pass" >"$s.$p.log" 2>&1 &
        done
        wait
        cat "$W"/shards/*."$p".log >"$OUT/node-$p.log"
        cat "$W"/shards/*."$p".pass | sort >"$OUT/node-pass-$p.txt"
        grep -vE '^\s*(#|$)' "$B/conformance/pass-list.txt" | sort >"$W/required.txt"
        missing=$(comm -23 "$W/required.txt" "$OUT/node-pass-$p.txt")
        log "node suite $p,cpu: $(wc -l <"$OUT/node-pass-$p.txt") of $(ls "$W/node" | wc -l) passed," \
            "$(echo -n "$missing" | grep -c .) required cases failed, $(($(date +%s) - t0)) s"
        for c in $missing; do grep -E "FAIL +$c:" "$OUT/node-$p.log" | head -1 | cut -c1-300 | tee -a "$OUT/summary.txt"; done
        # Only the bundled models are required (resnet18 is left out for size).
        for m in $(grep -vE '^\s*(#|$)' "$B/conformance/models-pass-list.txt"); do
            [ -d "$W/models/$m" ] && echo "$m"
        done >"$W/models-required.txt"
        for level in disable all; do
            "$ORT" test "$W/models" --providers "$p,cpu" --level "$level" \
                --require "$W/models-required.txt" >"$OUT/models-$p-$level.log" 2>&1
            log "small models $p,cpu $level: $(tail -1 "$OUT/models-$p-$level.log")" \
                "$(grep -h 'required cases did not pass' "$OUT/models-$p-$level.log")"
        done
    done
fi

if [ "${BENCH:-1}" != 0 ]; then
    PYTHONUNBUFFERED=1 python3 "$B/gpu_models.py" --ort "$ORT" --work "$W/big" --out "$OUT" 2>&1 |
        tee "$OUT/models.log" | grep -vE '^(ok|FAIL) ' | tail -40
fi
log "done"
