"""DDN model file (Spec/MODEL.md §5), the single-shot level network (§3b) and the residual
network with its path embedding (§8, §8.1).

Arithmetic: IEEE binary32, round to nearest even, every multiply and every add its own exactly
rounded NumPy operation (NumPy never fuses them), in the order the Spec writes each sum. Arrays
only vectorise across independent outputs (pixels, output channels, sub-pixels): a sum over an
input index is always a Python loop that adds one product term at a time.
"""
import hashlib
import struct

import numpy as np

f32 = np.float32


class ModelError(Exception):
    pass


CONFIG_FIELDS = ("layout", "width", "height", "channels", "bit_depth", "levels", "candidates", "base_channels")


class Model:
    """A model file's configuration, parameters (as named float32 arrays) and start image."""

    def __init__(self, data: bytes):
        self.identity = hashlib.sha256(data).digest()
        pos = 0

        def take(n):
            nonlocal pos
            if pos + n > len(data):
                raise ModelError("model file truncated")
            b = data[pos:pos + n]
            pos += n
            return b

        def u32():
            return struct.unpack("<I", take(4))[0]

        def f32s(n):
            return np.frombuffer(take(4 * n), dtype="<f4").astype(np.float32)

        if take(4) != b"DDNM":
            raise ModelError("not a DDN model file (magic)")
        self.version = u32()
        if self.version not in (1, 2, 3):
            raise ModelError(f"model file version {self.version}")
        for name in CONFIG_FIELDS:
            setattr(self, name, u32())
        self.hidden1 = self.hidden2 = self.window = 0
        if self.version >= 2:
            self.hidden1, self.hidden2, self.window = u32(), u32(), u32()
        self.path_embedding = False
        if self.version == 3:
            if u32() != 1:
                raise ModelError("version-3 conditioning flags must be 1")
            self.path_embedding = True
        self.sigma, self.leak = f32s(2)
        n = u32()
        params = f32s(n)
        self.start_image = f32s(self.width * self.height * self.channels).reshape(self.height, self.width, self.channels)
        self.statistics = take(u32())
        if u32() != 0:
            raise ModelError("model file carries a training state (a checkpoint, not a model for coding)")
        if pos != len(data):
            raise ModelError("bytes after the model")
        if self.layout != 1:
            raise ModelError("only the single-shot layout (1) is implemented here")
        self._split(params)

    # -- §4 single-shot parameter order, then §8's ------------------------------------------------

    def level_size(self, l: int):
        """h_l, w_l (ceil(H / 2^(L-1-l))) and the level width n_l = min(4c, c * 2^(L-1-l))."""
        s = 1 << (self.levels - 1 - l)
        c = self.base_channels
        return -(-self.height // s), -(-self.width // s), min(4 * c, c * s)

    def _split(self, params):
        pos = 0

        def take(n, shape):
            nonlocal pos
            if pos + n > len(params):
                raise ModelError("parameter count too small for the configuration")
            a = params[pos:pos + n].reshape(shape)
            pos += n
            return a

        C, K = self.channels, self.candidates
        KC = K * C
        self.level_params = []
        for l in range(self.levels):
            _, _, n = self.level_size(l)
            p = {}
            p["conv1.w"] = take(9 * C * n, (3, 3, C, n))       # w[((ky*3 + kx)*Cin + i)*Cout + o]
            p["conv1.b"] = take(n, (n,))
            p["conv2.w"] = take(9 * n * n, (3, 3, n, n))
            p["conv2.b"] = take(n, (n,))
            p["head.w"] = take(n * KC, (n, K, C))              # head.w[i*KC + k*C + j]
            p["head.b"] = take(KC, (K, C))
            p["select.w"] = take(n * K, (n, K))
            p["select.b"] = take(K, (K,))
            p["halt.w"] = take(n, (n,))
            p["halt.b"] = take(1, (1,))
            self.level_params.append(p)
        if self.version >= 2:
            H1, H2, V = self.hidden1, self.hidden2, 1 << self.bit_depth
            P = self.width * self.height
            self.F = self.feature_count()
            self.pos_bias = take(P * C * H1, (P * C, H1))
            self.W1 = take(self.F * H1, (self.F, H1))
            self.W2 = take(H1 * H2, (H1, H2))
            self.b2 = take(H2, (H2,))
            self.W3 = take(H2 * V, (H2, V))
            self.b3 = take(V, (V,))
            if self.path_embedding:
                self.E1 = take(self.levels * K * H1, (self.levels, K, H1))
                self.E2 = take(self.levels * K * H2, (self.levels, K, H2))
        if pos != len(params):
            raise ModelError(f"parameter count {len(params)}, configuration needs {pos}")

    def feature_count(self) -> int:
        C, r = self.channels, self.window
        return (2 * r + 1) ** 2 * C + 17 * C + (C if C > 1 else 0)

    # -- §3 / §3b building blocks -------------------------------------------------------------

    def lrelu(self, v):
        return np.where(v >= 0, v, self.leak * v).astype(np.float32)

    @staticmethod
    def conv3(x, w, b):
        """3x3 convolution, zero padding: y = b, then taps (ky, kx) skipping those outside the
        image, then input channels i in order, one product added at a time.
        x: (h, w, Cin); w: (3, 3, Cin, Cout); b: (Cout,) -> (h, w, Cout)."""
        h, wd, cin = x.shape
        y = np.empty((h, wd, w.shape[3]), dtype=np.float32)
        y[...] = b
        for ky in range(3):
            for kx in range(3):
                dy, dx = ky - 1, kx - 1
                y0, y1 = max(0, -dy), min(h, h - dy)
                x0, x1 = max(0, -dx), min(wd, wd - dx)
                if y0 >= y1 or x0 >= x1:
                    continue
                src = x[y0 + dy:y1 + dy, x0 + dx:x1 + dx, :]
                for i in range(cin):
                    y[y0:y1, x0:x1, :] += src[:, :, i:i + 1] * w[ky, kx, i]
        return y

    @staticmethod
    def resample(x, h, w):
        """Nearest resampling: u[y][x] = x[floor(y*h'/h)][floor(x*w'/w)] (integer division)."""
        hs, ws = x.shape[0], x.shape[1]
        rows = [(y * hs) // h for y in range(h)]
        cols = [(i * ws) // w for i in range(w)]
        return x[rows][:, cols]

    def start_mean(self):
        """Level 0's input (and x̂ at depth 0): per channel, the start image's sum over pixels in
        raster order (from 0), times float32(1) / float32(W*H)."""
        acc = np.zeros(self.channels, dtype=np.float32)
        for y in range(self.height):
            for x in range(self.width):
                acc = acc + self.start_image[y, x]
        inv = f32(1) / f32(self.width * self.height)
        return (acc * inv).reshape(1, 1, self.channels)

    def level(self, l, xhat):
        """§3b steps 1-3: returns (selection logits [K], halt logit, f, u)."""
        p = self.level_params[l]
        h, w, n = self.level_size(l)
        u = self.resample(xhat, h, w)
        a = self.lrelu(self.conv3(u, p["conv1.w"], p["conv1.b"]))
        f = self.lrelu(self.conv3(a, p["conv2.w"], p["conv2.b"]))
        acc = np.zeros(n, dtype=np.float32)
        for y in range(h):
            for x in range(w):
                acc = acc + f[y, x]
        g = acc * (f32(1) / f32(h * w))
        s = p["select.b"].copy()
        hl = p["halt.b"][0]
        for i in range(n):
            s = s + g[i] * p["select.w"][i]
            hl = f32(hl + f32(g[i] * p["halt.w"][i]))
        return s, hl, f, u

    def candidate(self, l, k, f, u):
        """§3b step 4: c_k[p][j] = u[p][j] + (head.b[k*C+j] + sum_i f[p][i] * head.w[i*KC + k*C + j])."""
        p = self.level_params[l]
        acc = np.empty(u.shape, dtype=np.float32)
        acc[...] = p["head.b"][k]
        for i in range(f.shape[2]):
            acc += f[:, :, i:i + 1] * p["head.w"][i, k]
        return u + acc

    # -- Spec/CODEC.md §9.2: the posterior tables of bits-back coding ---------------------------

    def floats(self, samples):
        """MODEL.md §1 / §8 val(s): float32(s) * (2 / float32(maxValue)) - 1, samples (H, W, C)."""
        inv = f32(2) / f32((1 << self.bit_depth) - 1)
        return np.asarray(samples, dtype=np.int64).astype(np.float32) * inv - f32(1)

    def level_target(self, image, l):
        """The image at level l's size h_l x w_l (CODEC.md §9.2, `DDNModel.levelTarget`): the
        mean of each level pixel's cell, the full pixels that nearest resampling (§3b) maps to it,
        floor(y * h_l / H) = Y and floor(x * w_l / W) = X: the cell's floats summed in float32 in
        raster order from 0, then divided (float32) by float32(the cell's pixel count). At full
        size the image itself."""
        H, W, C = self.height, self.width, self.channels
        h, w, _ = self.level_size(l)
        if (h, w) == (H, W):
            return image
        acc = np.zeros((h, w, C), dtype=np.float32)
        count = np.zeros((h, w), dtype=np.int64)
        for y in range(H):
            for x in range(W):
                Y, X = (y * h) // H, (x * w) // W
                acc[Y, X] = acc[Y, X] + image[y, x]
                count[Y, X] += 1
        return acc / count.astype(np.float32)[:, :, None]

    def all_candidates(self, l, f, u):
        """§3b step 4 for every k at once: (K, h_l, w_l, C), each the same operations as candidate()."""
        p = self.level_params[l]
        K = self.candidates
        acc = np.empty((K,) + u.shape, dtype=np.float32)
        acc[...] = p["head.b"][:, None, None, :]
        for i in range(f.shape[2]):
            # head.w[i] is (K, C): the term f[p][i] * head.w[i*KC + k*C + j] for every k, p, j
            acc += f[None, :, :, i:i + 1] * p["head.w"][i][:, None, None, :]
        return u[None] + acc

    def posterior_logits(self, l, s, f, u, target, weight):
        """CODEC.md §9.2: the float32 logits s_k - w * SE_k of level l's posterior table, with
        SE_k = sum over the level's sub-pixels i (ascending, from 0) of (c_{l,k,i} - t_i)^2 and
        w = float32(((weight * ln 2) * N) / P_l) computed in double (N the image's sub-pixels,
        P_l the level's)."""
        cand = self.all_candidates(l, f, u).reshape(self.candidates, -1)
        t = target.reshape(-1)
        se = np.zeros(self.candidates, dtype=np.float32)
        for i in range(t.shape[0]):
            d = cand[:, i] - t[i]
            se = se + d * d
        N = self.width * self.height * self.channels
        P = t.shape[0]
        w = f32(((weight * 0.6931471805599453) * N) / P)
        return s - w * se

    # -- §8 residual network ----------------------------------------------------------------

    def window_part(self, full, path):
        """z1's bias and x̂-window terms for every sub-pixel i = (y*W + x)*C + c: (P*C, H1)."""
        H, W, C, r = self.height, self.width, self.channels, self.window
        z = self.pos_bias.copy()
        if self.path_embedding:
            e1 = np.zeros(self.hidden1, dtype=np.float32)
            for l, k in enumerate(path):
                e1 = e1 + self.E1[min(l, self.levels - 1), k]
            z = z + e1
        padded = np.zeros((H + 2 * r, W + 2 * r, C), dtype=np.float32)
        padded[r:r + H, r:r + W] = full
        j = 0
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                for ch in range(C):
                    # feature j of every pixel, the same for each of its channels
                    fj = np.repeat(padded[r + dy:r + dy + H, r + dx:r + dx + W, ch].reshape(H * W), C)
                    z = z + fj[:, None] * self.W1[j]
                    j += 1
        return z

    def decode_samples(self, rd, full, path, softmax_table):
        """§8 / CODEC §7.2: every sub-pixel in raster order, channels in order."""
        H, W, C = self.height, self.width, self.channels
        V = 1 << self.bit_depth
        inv = f32(2) / f32(V - 1)
        zw = self.window_part(full, path)
        b2 = self.b2
        if self.path_embedding:
            e2 = np.zeros(self.hidden2, dtype=np.float32)
            for l, k in enumerate(path):
                e2 = e2 + self.E2[min(l, self.levels - 1), k]
            b2 = b2 + e2
        vals = np.zeros((H, W, C), dtype=np.float32)     # val(x) of decoded samples
        out = np.zeros((H, W, C), dtype=np.int64)
        j0 = (2 * self.window + 1) ** 2 * C
        offsets = [(-2, dx) for dx in range(-3, 4)] + [(-1, dx) for dx in range(-3, 4)] + [(0, dx) for dx in range(-3, 0)]
        for y in range(H):
            for x in range(W):
                causal = []
                for dy, dx in offsets:
                    yy, xx = y + dy, x + dx
                    inside = 0 <= yy < H and 0 <= xx < W
                    for ch in range(C):
                        causal.append(vals[yy, xx, ch] if inside else f32(0))
                for c in range(C):
                    feats = list(causal)
                    if C > 1:
                        feats += [vals[y, x, ch] if ch < c else f32(0) for ch in range(C)]
                    z1 = zw[(y * W + x) * C + c].copy()
                    for j, fv in enumerate(feats):
                        z1 = z1 + fv * self.W1[j0 + j]
                    a1 = self.lrelu(z1)
                    z2 = b2.copy()
                    for j in range(self.hidden1):
                        z2 = z2 + a1[j] * self.W2[j]
                    a2 = self.lrelu(z2)
                    logit = self.b3.copy()
                    for j in range(self.hidden2):
                        logit = logit + a2[j] * self.W3[j]
                    s = rd.decode(softmax_table(logit))
                    out[y, x, c] = s
                    vals[y, x, c] = f32(s) * inv - f32(1)
        return out
