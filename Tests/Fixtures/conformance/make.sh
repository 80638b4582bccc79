#!/usr/bin/env bash
# Rebuilds the conformance vectors (README.md) from Fashion-MNIST with the release build:
#   swift build -c release && Tests/Fixtures/conformance/make.sh
# Each vector: archive.ddnz, model.ddnm or model-path (if the archive needs a model), expected/NAME.pixels (the
# entry's samples read from the source PNG by pypng). The models are trained with fused
# multiply-adds where the CPU has them, so another machine may make other (equally valid) bytes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=Tests/Fixtures/conformance rel=.build/release
py=python3; $py -c 'import png' 2>/dev/null || py=/usr/bin/python3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
$py $here/make-images.py "$work"

# vector NAME MODEL|- FILES...: an archive of FILES (named by their paths below $work), the model
# copied beside it (or, for a model committed under Corpus/, its path in model-path), the expected
# pixels of every entry.
vector() {
    local name=$1 model=$2; shift 2
    local dir=$here/$name
    rm -rf "$dir"; mkdir -p "$dir/expected"
    local m=()
    case $model in
        -) ;;
        Corpus/*) echo "$model" > "$dir/model-path"; m=(-m "$PWD/$model") ;;   # a committed model, by path
        *) cp "$model" "$dir/model.ddnm"; m=(-m "$PWD/$dir/model.ddnm") ;;
    esac
    (cd "$work" && "$OLDPWD/$rel/ddnzip" -q --block 1 "${m[@]}" "$OLDPWD/$dir/archive.ddnz" "$@")
    for f in "$@"; do mkdir -p "$(dirname "$dir/expected/$f")"; $py $here/png-pixels.py "$work/$f" "$dir/expected/$f.pixels"; done
    $rel/ddnunzip -l "$dir/archive.ddnz" | sed "s|^|$name: |"
}

# Tiny models: 5 levels (8 x 12 grey) or 4 (8 x 8 RGB), K = 4, c = 2, network 8 -> 8 or 16 -> 8.
train() { # OUT DATA STEPS HIDDEN
    $rel/ddntrain "$work/$2-train" --test "$work/$2" --held-out 6 --out "$work/$1" -f --steps "$3" \
        -K 4 --channels 2 --residual-hidden "$4" --residual-hidden2 8 --grid none --threads 1 \
        --context-images 50 --batch-size 8 2>&1 | grep "held-out 6 images, the" || true
}
train grey.ddnm grey 400 8
train rgb.ddnm rgb 2000 16

# Spec/ARCHIVE.md §7: one entry of raw samples, no model.
rm -rf $here/raw-samples; mkdir -p $here/raw-samples/expected
printf '\x44\x44\x4e\x5a\x02\x00\xcf\xba\xae\xbe\x83\x05\x61\x2e\x70\x6e\x67\x02\x01\x08\x00\x00\xff\xdd\xb9\x33\x4e\x07\x01' > $here/raw-samples/archive.ddnz
printf '\x00\xff' > $here/raw-samples/expected/a.png.pixels

vector ddn5-grey "$work/grey.ddnm" grey/g0.png grey/g1.png grey/g2.png grey/g3.png grey/g4.png grey/g5.png
vector ddn5-rgb "$work/rgb.ddnm" rgb/c0.png rgb/c1.png rgb/c4.png
vector classical - odd/garment.png odd/stripes.png grey/g2.png
vector ddn5-default Corpus/models/fashion-mnist.ddnm fm/f5.png fm/f6.png fm/f7.png fm/f8.png
vector ddn5-v2 Corpus/models/fashion-mnist-v2.ddnm fm/f5.png fm/f6.png fm/f7.png fm/f8.png
