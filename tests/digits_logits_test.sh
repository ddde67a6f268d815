#!/bin/sh
# The bundled digits model end to end against PyTorch: the digits test PNGs
# that REF names (its __metadata__ "files"), through `vit-vk-cli preprocess`
# (both backends) and `infer`, must give transformers' logits for them
# (tests/reference/digits_logits.py: the model's image processor, then
# ViTForImageClassification in fp32 on CPU; |logits| up to 9.9).
#   digits_logits_test.sh CLI COMPARE_TENSORS DATA_DIR MODEL_DIR WORK_DIR
set -u
cli=$1 compare=$2 data=$3 model=$4 work=$5
rm -rf "$work" && mkdir -p "$work" || exit 1
. "$(dirname "$0")/harness.sh"
device_precisions "$cli"
ref=$data/digits/pytorch-logits-16.safetensors

files=$(head -c 4096 "$ref" | tr -c '[:print:]' '\n' | sed -n 's/.*"files":"\([^"]*\)".*/\1/p' | tr ',' ' ')
set --
for f in $files; do
    set -- "$@" "$data/digits/test-png/$f"
done
check "$ref names the test images ($#)" [ $# -ge 8 ]

# Bounds: "digits/pytorch-logits-16 PRECISION cli logits.BACKEND" in
# $data/bounds.tsv (tests/bounds.h, tools/bounds.sh).
for b in torchvision pil; do
    run "preprocess $# digits ($b)" "$cli" preprocess --model "$model" --backend $b \
        --output "$work/px-$b.safetensors" "$@"
    name=logits
    [ $b = pil ] && name=logits=logits.pil
    case $precisions in *fp16*) ;; *) skip 2 ;; esac
    for p in $precisions; do
        run "infer digits ($b, $p)" "$cli" infer --model "$model" --precision $p \
            --input "$work/px-$b.safetensors" --output "$work/out-$b-$p.safetensors"
        run "digits logits ($b, $p) within its bound of PyTorch" "$compare" "$work/out-$b-$p.safetensors" "$ref" \
            $name "@digits/pytorch-logits-16 $p cli logits.$b"
        cat "$work/log"
    done
done
finish
