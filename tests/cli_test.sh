#!/bin/sh
# vit-vk-cli end to end: classify the 397 digits test PNGs and compare with
# PyTorch's predictions; infer the shared vit-tiny fixtures in both
# precisions and compare with transformers' logits and hidden states.
#   cli_test.sh CLI CHECK_CLASSIFY COMPARE_TENSORS MAKE_TIMM DATA_DIR MODEL_DIR WORK_DIR
set -u
cli=$1 check=$2 compare=$3 mktimm=$4 data=$5 model=$6 work=$7
rm -rf "$work" && mkdir -p "$work" || exit 1
. "$(dirname "$0")/harness.sh"
device_precisions "$cli"
fp16_skip() { case $precisions in *fp16*) ;; *) skip "$1" ;; esac; } # fp16_skip CHECKS

for p in $precisions; do
    if "$cli" classify --model "$model" --precision $p --json "$data"/digits/test-png/*.png >"$work/digits-$p.jsonl" \
        2>"$work/err"; then ok "classify 397 digits ($p)"; else bad "classify 397 digits ($p)"; cat "$work/err"; fi
    # fp32 must give PyTorch's top-1 on all 397 (it does on all five
    # vehicles, tools/vehicles.sh); fp16 may flip one image whose top two
    # logits are within its rounding (none flips on the vehicles).
    agree=1.0
    [ $p = fp16 ] && agree=0.995
    run "digits top-1 vs PyTorch ($p)" "$check" "$data/digits/expected.json" "$work/digits-$p.jsonl" $agree 0.94
    cat "$work/log"
done
fp16_skip 2

# Bounds: "@CASE PRECISION cli OUTPUT" in $data/bounds.tsv (tests/bounds.h).
for f in vit-tiny vit-tiny-f16 vit-tiny-bf16; do
    fp16_skip 4
    for p in $precisions; do
        run "infer $f ($p)" "$cli" infer --model "$data/fixtures/$f" --precision $p --hidden-states \
            --input "$data/fixtures/$f/reference.safetensors" --output "$work/$f-$p.safetensors"
        for t in logits hidden_states.0 hidden_states.2; do
            run "$f $p $t within its bound" "$compare" "$work/$f-$p.safetensors" \
                "$data/fixtures/$f/reference.safetensors" $t "@fixtures/$f $p cli $t"
            cat "$work/log"
        done
    done
done

# timm naming: vit-tiny's F16 weights renamed and q/k/v fused, against
# transformers' reference for the same weights (timm's LayerNorm eps is
# 1e-6, transformers' config says 1e-12: that is most of the fp32 logits'
# 2.4e-5, and its bound is measured with it).
run "convert vit-tiny-f16 to timm names" "$mktimm" "$data/fixtures/vit-tiny-f16" "$work/timm-vit-tiny" \
    vit_tiny_patch16_224
fp16_skip 2
for p in $precisions; do
    run "infer timm vit_tiny_patch16_224 F16 ($p)" "$cli" infer --model "$work/timm-vit-tiny" --precision $p \
        --input "$data/fixtures/vit-tiny-f16/reference.safetensors" --output "$work/timm-$p.safetensors"
    run "timm $p logits within its bound" "$compare" "$work/timm-$p.safetensors" \
        "$data/fixtures/vit-tiny-f16/reference.safetensors" logits "@timm-from/vit-tiny-f16 $p cli logits"
    cat "$work/log"
done

# Another input size: position embeddings resampled as transformers'
# interpolate_pos_encoding (references: transformers, tests/reference/library_references.py).
for case in "fixtures/vit-tiny vit-tiny-160x224 160x224" "../../models/digits-vit digits-48x40 48x40" \
    "family-extra/beit-shared-meanpool beit-shared-56x48 56x48" "family-extra/beit-abspos-cls beit-abspos-24x40 24x40"; do
    set -- $case
    fp16_skip 4
    for p in $precisions; do
        run "infer $2 ($p)" "$cli" infer --model "$data/$1" --precision $p --image-size "$3" --hidden-states \
            --input "$data/interpolate/$2.safetensors" --output "$work/$2-$p.safetensors"
        for t in logits hidden_states.0 hidden_states.2; do
            run "$2 $p $t within its bound" "$compare" "$work/$2-$p.safetensors" "$data/interpolate/$2.safetensors" \
                $t "@interpolate/$2 $p cli $t"
            cat "$work/log"
        done
    done
done

# attention maps: the tensor against transformers' attentions[-1][:, :, 0, :], and a PNG
for f in vit-tiny beit-tiny deit-tiny-distilled; do
    run "attention $f" "$cli" attention --model "$data/fixtures/$f" --precision fp32 --input "$data/fixtures/$f/reference.safetensors" \
        --output "$work/attn-$f.png" --tensor "$work/attn-$f.safetensors"
    run "$f attentions.last.cls within its bound" "$compare" "$work/attn-$f.safetensors" \
        "$data/fixtures/$f/reference.safetensors" attentions.last.cls "@fixtures/$f fp32 cli attentions.last.cls"
    cat "$work/log"
done
run "attention rollout vit-tiny" "$cli" attention --model "$data/fixtures/vit-tiny" --precision fp32 --rollout \
    --input "$data/fixtures/vit-tiny/reference.safetensors" --output "$work/rollout.png" --tensor "$work/rollout.safetensors"
run "rollout within its bound of PyTorch" "$compare" "$work/rollout.safetensors" \
    "$data/fixtures/vit-tiny/rollout.safetensors" attention_rollout.cls "@fixtures/vit-tiny fp32 cli attention_rollout.cls"
cat "$work/log"
run "attention map over a sample" "$cli" attention --model "$model" "$model/samples/7-seven.png" --output "$work/seven.png"
if head -c 8 "$work/seven.png" | od -An -tx1 | grep -q "89 50 4e 47"; then ok "attention map is a PNG"; else bad "attention map is a PNG"; fi

run "infer the bundled sample input" "$cli" infer --model "$model" --input "$model/samples/input.safetensors" \
    --output "$work/sample-out.safetensors"
run "classify table output" "$cli" classify --model "$model" --top-k 3 "$model"/samples/*.png
grep -q "seven" "$work/log" && ok "table names the labels" || bad "table names the labels"
run "devices" "$cli" devices
run "devices --json" "$cli" devices --json
check "devices --json: what AUTO picks and why, and the limits behind it" \
    grep -q '"max_texel_buffer_elements": [0-9]*, "max_workgroup_invocations": [1-9][0-9]*, "auto_kernels": "\(cpu\|gpu\): .*", "auto_precision": "fp\(16\|32\): ' "$work/log"
for c in classify infer devices bench attention; do
    run "$c --help" "$cli" $c --help
done

# The loader reports layers that VK_INSTANCE_LAYERS adds through the same
# messenger as the validation layer: a note, not a validation failure.
run "VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation: classify still passes" \
    env VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation "$cli" classify --model "$model" "$model/samples/7-seven.png"
check "VK_INSTANCE_LAYERS: no message counted as validation" sh -c "! grep -q 'validation' '$work/log'"

finish
