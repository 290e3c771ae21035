#!/usr/bin/env bash
# Publish a SAM-UNet reference checkpoint on the Hugging Face Hub: convert -> (evaluate) -> card -> push.
#
#   hub/publish_reference.sh CHECKPOINT MODEL_NAME [EVAL_DATA ...]
#
#   CHECKPOINT   a checkpoint written by the SAM-UNet reference code: torch.save({"model", "optimizer"}).
#                It is a pickle, so it is read with --trust-pickle: only run this on a file you trust.
#   MODEL_NAME   samunet_vit_b_res34 or samunet_vit_b_res50; the repo is $ORG/MODEL_NAME (hub/README.md).
#   EVAL_DATA    optional `samunet-tune eval` data specs; their results and the trivial baselines
#                go into the model card, e.g. kvasir-seg:../shared/data/kvasir-seg-mini,split=val
#
# Environment:
#   ORG=samunet-tune      Hub organisation or user to publish under
#   WORK=hub-release/NAME where the converted model, the evaluation and the staged upload go
#   PUBLISH=1             push for real after the dry run (default: stop after the dry run)
#   PRIVATE=1             create the repository private
#
# Example (dry run first; look at $WORK/staged, then publish):
#   hub/publish_reference.sh samunet_res34.pth samunet_vit_b_res34 kvasir-seg:../shared/data/kvasir-seg-mini,split=val
#   PUBLISH=1 hub/publish_reference.sh samunet_res34.pth samunet_vit_b_res34 kvasir-seg:../shared/data/kvasir-seg-mini,split=val
set -euo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
checkpoint=$1
model_name=$2
shift 2
case "$model_name" in
    samunet_vit_b_res34 | samunet_vit_b_res50) ;;
    *) echo "MODEL_NAME must be samunet_vit_b_res34 or samunet_vit_b_res50, not '$model_name'" >&2; exit 2 ;;
esac
org=${ORG:-samunet-tune}
work=${WORK:-hub-release/$model_name}
repo_id="$org/$model_name"
card_info="$(cd "$(dirname "$0")" && pwd)/reference_card.yaml"

echo "== 1. convert $checkpoint -> $work/model"
samunet-tune convert reference "$checkpoint" "$work/model" --trust-pickle --model "$model_name"

eval_args=()
if [[ $# -gt 0 ]]; then
    echo "== 2. evaluate on: $*"
    samunet-tune eval "$work/model" "$@" --out "$work/eval" --overwrite
    eval_args=(--eval "$work/eval")
else
    echo "== 2. no EVAL_DATA: the card reports no measured results (only the authors' reported ones)"
fi

push_args=("$work/model" --repo-id "$repo_id" --card-info "$card_info" --staging-dir "$work/staged" ${eval_args[@]+"${eval_args[@]}"})
if [[ "${PRIVATE:-0}" == 1 ]]; then
    push_args+=(--private)
fi

echo "== 3. model card and upload folder (dry run) -> $work/staged"
samunet-tune push "${push_args[@]}" --dry-run

if [[ "${PUBLISH:-0}" != 1 ]]; then
    echo "dry run done: read $work/staged/README.md, then rerun with PUBLISH=1 to upload to $repo_id"
    exit 0
fi
echo "== 4. push to $repo_id"
samunet-tune push "${push_args[@]}" --commit-message "Reference weights converted from $(basename "$checkpoint")"
