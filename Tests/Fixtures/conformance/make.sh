#!/usr/bin/env bash
# Rebuilds the conformance vectors (README.md) from Fashion-MNIST with the release build:
#   swift build -c release && Tests/Fixtures/conformance/make.sh [VECTOR...]
# With VECTOR names, only those are rebuilt (the tiny models are trained only for ddn5-grey and
# ddn5-rgb). DDN_BIN names another folder holding ddnzip, ddnunzip and ddntrain (default
# .build/release).
# Each vector: archive.ddnz, model.ddnm or model-path (if the archive needs a model), expected/NAME.pixels (the
# entry's samples read from the source PNG by pypng; a stored entry's expected file is NAME itself).
# The models are trained with fused multiply-adds where the CPU has them, so another machine may
# make other (equally valid) bytes.
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=Tests/Fixtures/conformance rel=$(cd "${DDN_BIN:-.build/release}" && pwd)
py=python3; $py -c 'import png, numpy' 2>/dev/null || py=/usr/bin/python3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
$py $here/make-images.py "$work"

# wanted NAME: rebuild NAME? (every vector when make.sh is given no names)
only=" $* "
wanted() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }

# vector NAME MODEL|- BLOCK FILES...: an archive of FILES (named by their paths below $work) written
# with --block BLOCK (1: archive format 2, every entry on its own; N > 1: format 3, solid blocks of
# N entries), the model copied beside it (or, for a model committed in the repository, its path in
# model-path), the expected pixels of every entry (a stored entry's: the file itself).
vector() {
    local name=$1 model=$2 block=$3; shift 3
    wanted "$name" || return 0
    local dir=$here/$name
    rm -rf "$dir"; mkdir -p "$dir/expected"
    local m=()
    case $model in
        -) ;;
        Corpus/*|Tests/*) echo "$model" > "$dir/model-path"; m=(-m "$PWD/$model") ;;   # a committed model, by path
        *) cp "$model" "$dir/model.ddnm"; m=(-m "$PWD/$dir/model.ddnm") ;;
    esac
    (cd "$work" && "$rel/ddnzip" -q --block "$block" "${m[@]}" "$OLDPWD/$dir/archive.ddnz" "$@")
    local listing; listing=$($rel/ddnunzip -l "${m[@]}" "$dir/archive.ddnz")
    for f in "$@"; do
        mkdir -p "$(dirname "$dir/expected/$f")"
        if awk -v f="$f" '$3 == "stored" && $NF == f { found = 1 } END { exit !found }' <<< "$listing"; then
            cp "$work/$f" "$dir/expected/$f"                         # the writer stored it: the file itself
        else
            $py $here/png-pixels.py "$work/$f" "$dir/expected/$f.pixels"
        fi
    done
    sed "s|^|$name: |" <<< "$listing"
}

# crafted NAME MODEL WEIGHT BLOCK FILES...: like vector, but the archive is written by
# make-bitsback.py (every image coder 5 at full depth, posterior weight WEIGHT eighths, which
# ddnzip never chooses), not by ddnzip; MODEL is a committed model, named in model-path.
crafted() {
    local name=$1 model=$2 weight=$3 block=$4; shift 4
    wanted "$name" || return 0
    local dir=$here/$name
    rm -rf "$dir"; mkdir -p "$dir/expected"
    echo "$model" > "$dir/model-path"
    (cd "$work" && $py "$OLDPWD/$here/make-bitsback.py" "$OLDPWD/$model" "$weight" "$block" "$OLDPWD/$dir/archive.ddnz" "$@")
    for f in "$@"; do mkdir -p "$(dirname "$dir/expected/$f")"; $py $here/png-pixels.py "$work/$f" "$dir/expected/$f.pixels"; done
    $rel/ddnunzip -l -m "$model" "$dir/archive.ddnz" | sed "s|^|$name: |"
}

# Tiny models: 5 levels (8 x 12 grey) or 4 (8 x 8 RGB), K = 4, c = 2, network 8 -> 8 or 16 -> 8.
train() { # OUT DATA STEPS HIDDEN
    $rel/ddntrain "$work/$2-train" --test "$work/$2" --held-out 6 --out "$work/$1" -f --steps "$3" \
        -K 4 --channels 2 --residual-hidden "$4" --residual-hidden2 8 --grid none --threads 1 \
        --context-images 50 --batch-size 8 2>&1 | grep "held-out 6 images, the" || true
}
if wanted ddn5-grey; then train grey.ddnm grey 400 8; fi
if wanted ddn5-rgb; then train rgb.ddnm rgb 2000 16; fi

# Spec/ARCHIVE.md §7: one entry of raw samples, no model, as version 2 and as version 3.
if wanted raw-samples; then
    rm -rf $here/raw-samples; mkdir -p $here/raw-samples/expected
    printf '\x44\x44\x4e\x5a\x02\x00\xcf\xba\xae\xbe\x83\x05\x61\x2e\x70\x6e\x67\x02\x01\x08\x00\x00\xff\xdd\xb9\x33\x4e\x07\x01' > $here/raw-samples/archive.ddnz
    printf '\x00\xff' > $here/raw-samples/expected/a.png.pixels
fi
if wanted raw-samples-v3; then
    rm -rf $here/raw-samples-v3; mkdir -p $here/raw-samples-v3/expected
    printf '\x44\x44\x4e\x5a\x03\x00\xcf\xba\xae\xbe\x44\x44\x4e\x42\x01\x03\x05\x61\x2e\x70\x6e\x67\x02\x01\x08\x02\x00\x00\xff\xc9\x6c\x72\x0c\x44\x44\x4e\x45\x01' > $here/raw-samples-v3/archive.ddnz
    printf '\x00\xff' > $here/raw-samples-v3/expected/a.png.pixels
fi

# Archive format 2 (--block 1).
vector ddn5-grey "$work/grey.ddnm" 1 grey/g0.png grey/g1.png grey/g2.png grey/g3.png grey/g4.png grey/g5.png
vector ddn5-rgb "$work/rgb.ddnm" 1 rgb/c0.png rgb/c1.png rgb/c4.png
vector classical - 1 odd/garment.png odd/stripes.png grey/g2.png
vector ddn5-default Corpus/models/fashion-mnist.ddnm 1 fm/f5.png fm/f6.png fm/f7.png fm/f8.png
vector ddn5-v2 Corpus/models/fashion-mnist-v2.ddnm 1 fm/f5.png fm/f6.png fm/f7.png fm/f8.png

# Archive format 3: solid blocks, coder 5's paths by bits-back (Spec/CODEC.md §9). ddn5-grey-v3
# uses ddn5-grey's model (by path, so it is rebuilt after ddn5-grey); grey/tail.png is stored.
vector ddn5-grey-v3 $here/ddn5-grey/model.ddnm 5 grey/g0.png grey/g1.png grey/g2.png grey/tail.png grey/g3.png \
    grey/g4.png grey/g5.png grey-train/t000.png grey-train/t001.png grey-train/t003.png
vector ddn5-v2-blocks Corpus/models/fashion-mnist-v2.ddnm 5 fm/f0.png fm/f1.png fm/f2.png fm/f3.png fm/f4.png \
    fm/f5.png fm/f6.png fm/f7.png fm/f8.png fm/f9.png fm/f10.png fm/f11.png

# The same images in one block at the largest posterior weight, 255/8: sharp posterior tables.
crafted ddn5-v2-weight255 Corpus/models/fashion-mnist-v2.ddnm 255 12 fm/f0.png fm/f1.png fm/f2.png fm/f3.png \
    fm/f4.png fm/f5.png fm/f6.png fm/f7.png fm/f8.png fm/f9.png fm/f10.png fm/f11.png
